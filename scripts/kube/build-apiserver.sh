#!/usr/bin/env bash
# Builds a real kube-apiserver for the tests from Debian's `kubernetes` source
# package, and puts it next to a matching kubectl and etcd:
#
#   ${MCP_RECORDER_CACHE:-$HOME/.cache/mcp-recorder}/kubernetes-<version>/bin/
#       kube-apiserver   built here from `apt-get source kubernetes` (1.20.2 in Debian 12)
#       kubectl          from Debian's kubernetes-client package (same source package)
#       etcd             from Debian's etcd-server package
#       VERSIONS         which Debian versions went in
#
#   scripts/kube/build-apiserver.sh [--rebuild]
#
# Prints that bin directory (the only line on stdout). Does nothing but print it
# when a complete build is already cached; --rebuild (or MCP_RECORDER_KUBE_REBUILD=1)
# builds again. Building takes about 5 minutes on 2 cores and needs about 2 GB in
# the cache directory while it runs (removed afterwards; MCP_RECORDER_KUBE_KEEP_SRC=1
# keeps the source tree and the log).
#
# What it changes on the machine (as root, or through sudo):
#   - if no deb-src entry is configured, adds /etc/apt/sources.list.d/mcp-recorder-deb-src.*
#     with deb-src twins of the configured Debian archive entries;
#   - apt-get installs the build dependencies: golang-go, golang-github-modern-go-reflect2-dev,
#     make, rsync, jq, dpkg-dev, and openssl (used by scripts/kube/cluster.py).
# kubectl and etcd are not installed system-wide: their .deb files are fetched with
# `apt-get download` and only the binary is extracted into the cache. That keeps them
# from clashing with another kubectl (e.g. the Google Cloud SDK's /usr/bin/kubectl) and
# keeps the etcd-server package from starting a system etcd service.
#
# Why the reflect2 swap: the source package vendors github.com/modern-go/reflect2
# v1.0.1, whose unsafe map iteration is broken with Go >= 1.18 (Debian 12 has Go 1.19);
# the server built with it crashes on its first admission webhook call. Debian's
# golang-github-modern-go-reflect2-dev (1.0.2) is API-compatible and works.
set -euo pipefail

cache_root=${MCP_RECORDER_CACHE:-$HOME/.cache/mcp-recorder}
rebuild=${MCP_RECORDER_KUBE_REBUILD:-0}
case "${1:-}" in
    "") ;;
    --rebuild) rebuild=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--rebuild]" >&2; exit 2 ;;
esac

log() { echo "build-apiserver: $*" >&2; }
die() { log "error: $*"; exit 1; }

cached_bin_dir() {  # the newest complete kubernetes-*/bin in the cache, if any
    local d best=""
    for d in "$cache_root"/kubernetes-*/bin; do
        [ -f "$d/.complete" ] && [ -x "$d/kube-apiserver" ] && [ -x "$d/kubectl" ] && [ -x "$d/etcd" ] || continue
        best=$(printf '%s\n%s\n' "$best" "$d" | sed '/^$/d' | sort -V | tail -n1)
    done
    [ -n "$best" ] && echo "$best"
}

if [ "$rebuild" != 1 ] && dir=$(cached_bin_dir); then
    echo "$dir"
    exit 0
fi

mkdir -p "$cache_root"
# One build at a time per cache directory; whoever waited uses the other's result.
exec 9>"$cache_root/.kube-build.lock"
if command -v flock >/dev/null 2>&1; then
    flock -w 1800 9 || die "timed out waiting for $cache_root/.kube-build.lock"
    if [ "$rebuild" != 1 ] && dir=$(cached_bin_dir); then
        echo "$dir"
        exit 0
    fi
fi

if [ "$(id -u)" = 0 ]; then
    as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
    as_root() { sudo "$@"; }
else
    die "need root (or sudo) to install Debian packages"
fi
export DEBIAN_FRONTEND=noninteractive
# apt's download sandbox user cannot write into a private $HOME; download as the caller.
apt_dl=(-o APT::Sandbox::User=root)

# ---------------------------------------------------------------- deb-src

src_configured() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && grep -qE '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && grep -qiE '^Types:.*deb-src' "$f" && return 0
    done
    return 1
}

add_deb_src() {
    # deb-src twins of the configured Debian archive entries (URIs containing "debian",
    # so third-party repositories without source indexes are left alone).
    local f tmp
    tmp=$(mktemp)
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # deb822: paragraphs separated by blank lines; keep enabled "deb" paragraphs.
        awk 'BEGIN { RS = ""; ORS = "\n\n" }
             /(^|\n)Types:[^\n]*deb/ && /(^|\n)URIs:[^\n]*debian/ && !/(^|\n)Enabled: *no/ {
                 gsub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' "$f" >>"$tmp"
    done
    if [ -s "$tmp" ]; then
        as_root install -m 644 "$tmp" /etc/apt/sources.list.d/mcp-recorder-deb-src.sources
        log "added /etc/apt/sources.list.d/mcp-recorder-deb-src.sources"
    else
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            sed -nE 's/^[[:space:]]*deb[[:space:]]+(.*debian.*)$/deb-src \1/p' "$f" >>"$tmp"
        done
        [ -s "$tmp" ] || { rm -f "$tmp"; die "no Debian archive entry found in /etc/apt to derive deb-src from"; }
        as_root install -m 644 "$tmp" /etc/apt/sources.list.d/mcp-recorder-deb-src.list
        log "added /etc/apt/sources.list.d/mcp-recorder-deb-src.list"
    fi
    rm -f "$tmp"
}

src_configured || add_deb_src
log "apt-get update"
as_root apt-get update -qq >/dev/null || die "apt-get update failed"

# ---------------------------------------------------------------- build dependencies

packages=(golang-go golang-github-modern-go-reflect2-dev make rsync jq dpkg-dev openssl)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        2> >(grep -v '^debconf: delaying package configuration' >&2) \
        || die "apt-get install ${missing[*]} failed"
fi
reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -f "$reflect2/reflect2.go" ] || die "$reflect2 missing (golang-github-modern-go-reflect2-dev)"

# ---------------------------------------------------------------- source and build

work=$(mktemp -d "$cache_root/kube-build.XXXXXX")
build_log="$work/build.log"
cleanup() {
    local rc=$?
    if [ "${MCP_RECORDER_KUBE_KEEP_SRC:-0}" = 1 ] || { [ "$rc" != 0 ] && [ -f "$build_log" ]; }; then
        # keep the log of a failed build; the 1.5 GB source/object tree only on request
        if [ "${MCP_RECORDER_KUBE_KEEP_SRC:-0}" != 1 ]; then
            find "$work" -mindepth 1 -maxdepth 1 ! -name build.log -exec rm -rf {} +
        fi
        [ "$rc" != 0 ] && log "kept $work (build log: $build_log)"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

cd "$work"
log "apt-get source kubernetes (into $work)"
apt-get "${apt_dl[@]}" source -qq kubernetes >"$work/source.log" 2>&1 \
    || { cat "$work/source.log" >&2; die "apt-get source kubernetes failed"; }
dsc=$(ls kubernetes_*.dsc)
src_version=$(sed -n 's/^Version: //p' "$dsc")
src=$(find . -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)
[ -n "$src" ] || die "apt-get source produced no kubernetes-* directory"
cd "$src"

vendored=vendor/github.com/modern-go/reflect2
[ -d "$vendored" ] || die "$vendored not found in the source package"
find "$vendored" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' -o -name BUILD \) -delete
cp "$reflect2"/*.go "$reflect2"/*.s "$vendored"/
log "replaced vendored reflect2 with Debian's $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)"

# Same as debian/rules (kubernetes builds in GOPATH mode with its vendor directory),
# but only the server. The make target first builds and runs the code generators.
mkdir -p .go/src/k8s.io
ln -sfn ../../.. .go/src/k8s.io/kubernetes
log "building kube-apiserver $src_version with $(go version | cut -d' ' -f3) (about 5 minutes; log in $build_log)"
start=$(date +%s)
if ! env GOPATH="$PWD/.go" CGO_ENABLED=0 GOFLAGS= GO111MODULE=off make WHAT=cmd/kube-apiserver >"$build_log" 2>&1; then
    tail -n 60 "$build_log" >&2
    die "make WHAT=cmd/kube-apiserver failed (full log: $build_log)"
fi
log "built in $(( $(date +%s) - start )) s"
server_version=$(_output/bin/kube-apiserver --version | awk '{print $2}')  # "Kubernetes v1.20.2"
[ -n "$server_version" ] || die "the built kube-apiserver prints no version"

# ---------------------------------------------------------------- kubectl and etcd

cd "$work"
mkdir debs
(cd debs && apt-get "${apt_dl[@]}" download -qq kubernetes-client etcd-server >"$work/download.log" 2>&1) \
    || { cat "$work/download.log" >&2; die "apt-get download kubernetes-client etcd-server failed"; }
for deb in debs/*.deb; do dpkg-deb -x "$deb" extracted; done
kubectl_version=$(dpkg-deb -f debs/kubernetes-client_*.deb Version)
etcd_version=$(dpkg-deb -f debs/etcd-server_*.deb Version)
[ "$kubectl_version" = "$src_version" ] \
    || log "warning: kubernetes-client is $kubectl_version, the source package $src_version"

# ---------------------------------------------------------------- install into the cache

dest="$cache_root/kubernetes-${server_version#v}"
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp/bin"
install -m 755 "$work/$src/_output/bin/kube-apiserver" "$dest.tmp/bin/kube-apiserver"
install -m 755 extracted/usr/bin/kubectl "$dest.tmp/bin/kubectl"
install -m 755 extracted/usr/bin/etcd "$dest.tmp/bin/etcd"
cat >"$dest.tmp/bin/VERSIONS" <<EOF
kube-apiserver $server_version, built from Debian source kubernetes $src_version with $(go version | cut -d' ' -f3) and golang-github-modern-go-reflect2-dev $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)
kubectl from Debian kubernetes-client $kubectl_version
etcd from Debian etcd-server $etcd_version
built $(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
rm -rf "$dest"
mv "$dest.tmp" "$dest"
touch "$dest/bin/.complete"
log "installed into $dest/bin"
echo "$dest/bin"
