# The mcp-recorder image: one binary (sidecar, collector, webhook, init-redirect, CLI).
#
#   docker build -t mcp-recorder .                      # full multi-stage build
#   podman build -t mcp-recorder .                      # same with podman/buildah
#
# From a binary built outside the image (--target runtime-prebuilt): the build context
# is a directory holding just that binary; the build stage and the toolchain image are
# skipped. The binary must be linked with --static-swift-stdlib on Debian 12 (glibc 2.36),
# see docs/image.md:
#   strip -o dist/mcp-recorder .build-release/release/mcp-recorder
#   podman build -f Dockerfile --target runtime-prebuilt -t mcp-recorder dist/
#
# Build arguments:
#   SWIFT_IMAGE   the toolchain image of the build stage     (default swift:6.3-bookworm)
#   RUNTIME_BASE  the base of the runtime image               (default debian:bookworm-slim)
#                 Any Debian 12 rootfs works, e.g. one made with debootstrap and imported
#                 as a local image (scripts/image-test.sh does exactly that).
#   VERSION, REVISION, CREATED, SOURCE, LICENSES   OCI labels.
#
# The runtime stage needs nothing writable: run it with a read-only root filesystem
# and mount volumes for data (collector: /var/lib/mcp-recorder, sidecar: its spool).

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_BASE=debian:bookworm-slim

# ---------------------------------------------------------------------------------
# build: a release binary with the Swift runtime and Foundation linked statically.
# Nothing imports FoundationNetworking, so libcurl is not linked. What stays dynamic:
# glibc (libc, libm), libstdc++/libgcc_s, zlib, ISA-L, libdeflate and SQLite, all from the
# runtime base.
FROM ${SWIFT_IMAGE} AS build

# Versions are not pinned: the Debian 12 archive replaces a package version with its
# security update, so any pin breaks the build as soon as an update is published.
# The suite (bookworm) is fixed by the image, which is what makes builds repeatable.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-dev zlib1g-dev libisal-dev libdeflate-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Package.resolved is used when the build context has one.
COPY Package.* ./
COPY Sources ./Sources
COPY Tests ./Tests

# The scratch directory is a cache mount: repositories, checkouts and object files
# survive between builds of the image; the binary is copied out of it in the same step.
# SwiftPM's shared cache in ~/.cache would be thrown away with the layer, so it is off.
RUN --mount=type=cache,id=mcp-recorder-swiftpm,target=/src/.build,sharing=locked \
    swift build -c release --static-swift-stdlib --disable-dependency-cache --product mcp-recorder \
    && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/mcp-recorder" \
        /staging/usr/local/bin/mcp-recorder \
    && strip /staging/usr/local/bin/mcp-recorder

# ---------------------------------------------------------------------------------
# runtime-base: the base, the libraries the binary links, iptables for init-redirect,
# CA certificates, an unprivileged user, the image's configuration. Everything but the
# binary, which the two final stages below add.
# RUNTIME_BASE is a build argument so the image can be built from a local base.
FROM ${RUNTIME_BASE} AS runtime-base

# Same reason as in the build stage for not pinning versions.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates \
        iptables \
        libdeflate0 \
        libisal2 \
        libsqlite3-0 \
        libstdc++6 \
        zlib1g \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old \
        /var/log/apt /var/log/dpkg.log /var/log/alternatives.log /var/lib/dpkg/*-old \
    && groupadd --system -K SYS_GID_MAX=65532 --gid 65532 mcp-recorder \
    && useradd --system -K SYS_UID_MAX=65532 --uid 65532 --gid 65532 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin mcp-recorder \
    && install -d -o 65532 -g 65532 -m 0750 /var/lib/mcp-recorder

# init-redirect finds iptables through PATH (/usr/sbin); an imported rootfs has no PATH.
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Declared here, after the RUN, so that a new VERSION or CREATED keeps the layers above cached.
ARG VERSION=dev
ARG REVISION=""
ARG CREATED=""
ARG SOURCE=https://github.com/mcp-recorder/mcp-recorder
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="mcp-recorder" \
      org.opencontainers.image.description="Flight recorder for MCP servers on Kubernetes: recording sidecar, collector, admission webhook, init-redirect and CLI in one binary" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"

WORKDIR /var/lib/mcp-recorder
# The same uid/gid as the sidecar's injected securityContext (runAsUser 65532).
# The init-redirect init container overrides it with runAsUser 0 and NET_ADMIN.
USER 65532:65532
ENTRYPOINT ["mcp-recorder"]
CMD ["--help"]

# ---------------------------------------------------------------------------------
# runtime-prebuilt (--target runtime-prebuilt): the binary from the build context, which
# is then a directory holding just `mcp-recorder`. Needs neither the build stage nor
# the toolchain image.
FROM runtime-base AS runtime-prebuilt
COPY mcp-recorder /usr/local/bin/mcp-recorder

# ---------------------------------------------------------------------------------
# runtime (the default target): the binary from the build stage.
FROM runtime-base AS runtime
COPY --from=build /staging/usr/local/bin/mcp-recorder /usr/local/bin/mcp-recorder
