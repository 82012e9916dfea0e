#!/usr/bin/env bash
# Installs what berth needs on Debian, then builds it. Idempotent: system packages are installed only
# when missing, `npm ci` only when the lockfile changed since the last install.
#   scripts/install.sh          runtime needs
#   scripts/install.sh --test   plus what the test suite drives (the AWS CLI v2, etcd, …)
#   scripts/install.sh --demo   plus what scripts/up.sh uses (AWS CLI v2, skopeo, umoci, HAProxy for berth up's load balancer node)
#   scripts/install.sh --ha     plus etcd, for scripts/ha-lab.sh (several replicas on an etcd cluster)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_demo=0
want_ha=0
[[ "${1:-}" == "--test" ]] && want_test=1
[[ "${1:-}" == "--demo" ]] && want_demo=1
[[ "${1:-}" == "--ha" ]] && want_demo=1 && want_ha=1

# Debian packages: building the native store driver; running containers (runc under conmon, gVisor's runsc
# for Fargate tasks (a second runtime, docs/runtimes.md), Docker's
# seccomp profile from containers-common, tini as the init for initProcessEnabled, the CNI plugins,
# iptables for the bridge's masquerade rule, nftables for published ports, attr's setfattr to mark opaque
# directories in unpacked image layers); and for tests the real peers berth is tested with (containerd: the start-latency bench compares with `ctr run`;
# dnsmasq: bench/dns-throughput.mjs serves the same records with it; etcd-client: etcdctl, with which the HA e2e reads etcd;
# chromium: the web console's browser test drives it headless through playwright-core; zsh: the completion test runs
# `berth completion zsh` in a real zsh; tcpdump: the EFS transit-encryption test captures the storage host's traffic).
# GlusterFS: glusterfs-server on storage hosts (`berth storage` runs glusterd and its bricks), glusterfs-client on
# hosts whose tasks mount EFS file systems (FUSE mounts; docs/storage.md). Both runtime: any host may be either.
# bindfs: an EFS access point's POSIX user over the FUSE mount (agent/efs-mounts.ts). busybox-static: its
# mount applet mounts each container's root filesystem, a third of util-linux mount(8)'s CPU on every start
# (image/overlay.ts; mount(8) is used without it).
packages=(ca-certificates python3 make g++ runc runsc conmon golang-github-containers-common tini containernetworking-plugins iptables nftables iproute2 attr glusterfs-server glusterfs-client bindfs busybox-static)
(( want_demo )) && packages+=(awscli skopeo umoci haproxy)
(( want_ha )) && packages+=(etcd-server etcd-client)
(( want_test )) && packages+=(awscli skopeo podman docker-registry umoci etcd-server etcd-client containerd haproxy dnsmasq-base chromium zsh tcpdump)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  if [[ $(id -u) -ne 0 ]]; then echo "install.sh: need root to apt-get install ${missing[*]}" >&2; exit 1; fi
  echo "install.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v node >/dev/null || ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  echo "install.sh: berth needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

stamp=node_modules/.berth-lock-hash
hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$hash" ]]; then
  echo "install.sh: npm ci"
  # No prebuilt native binaries can be downloaded here: build better-sqlite3 from source straight away.
  npm_config_build_from_source=true npm ci --no-audit --no-fund --loglevel=error
  echo "$hash" > "$stamp"
fi

echo "install.sh: building"
npm run --silent build
