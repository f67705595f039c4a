#!/usr/bin/env bash
# Builds the function's runtime image without a Docker engine, and the function package with
# that image embedded: the Dockerfile's equivalent from Debian's packages and PyPI only.
#
#   hack/image.sh OUT_DIR      -> OUT_DIR/image.tar (docker-archive), OUT_DIR/root (its files),
#                                 OUT_DIR/function.xpkg (package/ with the image embedded)
#
# Needs root (mmdebstrap --mode=root, chroot), mmdebstrap and buildah (installed from Debian's
# packages when missing), and the Crossplane CLI ($CROSSPLANE_BIN, else ../shared/bin/crossplane,
# else crossplane on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:?usage: hack/image.sh OUT_DIR}")
version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
tag="function-vcluster-environment:v${version}"

need() {
  command -v "$1" >/dev/null && return
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need mmdebstrap mmdebstrap
need buildah buildah
crossplane=${CROSSPLANE_BIN:-../shared/bin/crossplane}
[ -x "$crossplane" ] || crossplane=$(command -v crossplane)

rm -rf "$out" && mkdir -p "$out"
root="$out/root"

# Debian 12's python3 is 3.11, like the Dockerfile's base; grpcio needs libstdc++6.
mmdebstrap --quiet --variant=essential --mode=root \
  --include=python3,python3-venv,libstdc++6,ca-certificates bookworm "$root"

# The project and its dependencies as wheels, pinned by constraints.txt like the Dockerfile.
python3 -m pip wheel --quiet --disable-pip-version-check -c constraints.txt -w "$root/wheels" .
inside=(env -u PIP_FIND_LINKS chroot "$root")
"${inside[@]}" python3 -m venv /venv
"${inside[@]}" /venv/bin/pip install --quiet --disable-pip-version-check --no-index \
  --find-links /wheels function-vcluster-environment
"${inside[@]}" /venv/bin/pip uninstall --quiet --yes pip setuptools 2>/dev/null || true
# What a function never reads at run time: documentation, translations, the test suite, apt's
# caches; the Dockerfile's slim base leaves out the same.
rm -rf "$root/wheels" "$root/var/cache/apt" "$root/var/lib/apt/lists" "$root"/usr/share/{doc,man,info,locale,lintian} \
  "$root/usr/lib/python3.11/test" "$root"/usr/lib/python3.11/{idlelib,tkinter,turtledemo,ensurepip,lib2to3}
# Read-only root at run time: compile now, with hashes that stay valid after copying.
"${inside[@]}" /venv/bin/python3 -m compileall -q -j 0 --invalidation-mode unchecked-hash /venv/lib
"${inside[@]}" /venv/bin/function-vcluster-environment serve --help >/dev/null

store=(--storage-driver vfs --root "$out/storage" --runroot "$out/run")
ctr=$(buildah "${store[@]}" from scratch)
buildah "${store[@]}" add "$ctr" "$root" / >/dev/null
buildah "${store[@]}" config \
  --env PATH=/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env PYTHONDONTWRITEBYTECODE=1 --env PYTHONUNBUFFERED=1 \
  --user 65532:65532 --port 9443/tcp \
  --entrypoint '["/venv/bin/function-vcluster-environment", "serve"]' "$ctr"
buildah "${store[@]}" commit --quiet --rm "$ctr" "docker-archive:$out/image.tar:$tag" >/dev/null
rm -rf "$out/storage" "$out/run"

"$crossplane" xpkg build --package-root package --examples-root examples \
  --embed-runtime-image-tarball "$out/image.tar" \
  --package-file "$out/function.xpkg"
echo "image $tag: $out/image.tar ($(du -m "$out/image.tar" | cut -f1) MiB); package: $out/function.xpkg"
