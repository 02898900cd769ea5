#!/usr/bin/env bash
# Install every Debian 12 package that sciflow's build, tests and demo need.
# Idempotent: packages already present are left alone; safe to run again.
#
#   scripts/setup-debian.sh            build + test + demo dependencies
#
# Needs root (or passwordless sudo). Exits non-zero with a clear message otherwise.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # libraries (docs/ARCHITECTURE.md, "Dependencies")
  libcli11-dev libzstd-dev zstd libssl-dev libcurl4-openssl-dev libyaml-cpp-dev
  libhdf5-dev hdf5-tools doctest-dev nlohmann-json3-dev libfmt-dev
  libtiff-dev libpng-dev libsqlite3-dev libcpp-httplib-dev libdeflate-dev
  # dxfer's optional xxh3-tree (--hash xxh3)
  libxxhash-dev
  # vindex engines; libtorch for TorchScript models (vindex embed, the tezip learned predictor)
  libhnswlib-dev libfaiss-dev libtorch-dev
  # BLAS: libtorch and FAISS are ~20x slower on the reference BLAS
  libopenblas-dev
  # tests: man page rendering, python for small helpers
  man-db groff-base zsh fish python3 time
  # dxfer tests: real WebDAV servers (nginx, Apache mod_dav), an OpenSSH SFTP server, TLS tools, curl as a client
  nginx libnginx-mod-http-dav-ext apache2 openssh-server openssh-client openssl curl
  # wfrun tests: a one-node Slurm (tests/slurm/cluster.sh)
  slurm-wlm munge
  # fuzzing the decoders (libFuzzer with ASan/UBSan)
  clang libclang-rt-14-dev libomp-dev
)

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "setup-debian.sh: error: must run as root (or with passwordless sudo) to install packages" >&2
    exit 1
  fi
else
  SUDO=()
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-debian.sh: error: apt-get not found: this script supports Debian 12" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup-debian.sh: installing ${#missing[@]} package(s): ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup-debian.sh: all ${#PACKAGES[@]} packages already installed" >&2
fi

# OpenBLAS must be the BLAS/LAPACK that libblas.so.3 resolves to.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for lib in libblas.so.3 liblapack.so.3; do
  target=$(update-alternatives --query "$lib-$arch" 2>/dev/null | awk '/^Value:/ {print $2}')
  if [[ "$target" != *openblas* ]]; then
    cand=$(update-alternatives --list "$lib-$arch" 2>/dev/null | grep openblas | head -n1 || true)
    if [[ -z "$cand" ]]; then
      echo "setup-debian.sh: error: no OpenBLAS alternative for $lib" >&2
      exit 1
    fi
    "${SUDO[@]}" update-alternatives --set "$lib-$arch" "$cand" >/dev/null
    target=$cand
  fi
  echo "setup-debian.sh: $lib -> $target" >&2
done
