#!/usr/bin/env bash
# Builds a small web-server image from Debian's busybox-static with umoci, as an OCI layout:
#   scripts/build-demo-image.sh DIR    →  DIR is an OCI image layout with tag `latest`
# The image serves /www on port 8080 with busybox httpd, logging each request to stderr.
set -euo pipefail
out=${1:?usage: build-demo-image.sh DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
umoci init --layout "$out"
umoci new --image "$out:latest"
umoci unpack --image "$out:latest" "$work/bundle" >/dev/null
root="$work/bundle/rootfs"
mkdir -p "$root/bin" "$root/etc" "$root/www" "$root/tmp"
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in sh httpd echo cat ls sleep wget hostname env id; do ln -s busybox "$root/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
printf '<!doctype html>\n<h1>Hello from berth</h1>\n<p>Served by busybox httpd in a runc container, placed by berth.</p>\n' > "$root/www/index.html"
umoci repack --image "$out:latest" "$work/bundle"
umoci config --image "$out:latest" --config.exposedports 8080/tcp \
  --config.cmd httpd --config.cmd -f --config.cmd -v --config.cmd -p --config.cmd 8080 --config.cmd -h --config.cmd /www
umoci gc --layout "$out"
