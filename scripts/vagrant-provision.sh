#!/usr/bin/env bash
# Provisions the Vagrant VM (see Vagrantfile; runs as root inside an Ubuntu 24.04 guest):
# Node.js 20 from NodeSource's apt repository, since Ubuntu 24.04's own nodejs is 18, then
# berth from the synced checkout with scripts/install.sh, with a busybox image to run.
# Safe to run again (vagrant provision).
set -euo pipefail

BERTH_DIR=${BERTH_DIR:-/berth}
NODE_MAJOR=20
export DEBIAN_FRONTEND=noninteractive
# A fresh box's unattended-upgrades often holds the dpkg lock for a while after boot.
APT=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

node_major() {
  if command -v node >/dev/null 2>&1; then
    node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
  else
    echo 0
  fi
}

if [ "$(node_major)" -lt "$NODE_MAJOR" ]; then
  echo "==> installing Node.js $NODE_MAJOR from NodeSource"
  "${APT[@]}" update -qq
  "${APT[@]}" install -y -qq --no-install-recommends ca-certificates curl gnupg
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key |
    gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main" \
    >/etc/apt/sources.list.d/nodesource.list
  # Prefer NodeSource's nodejs (which includes npm) to Ubuntu's.
  cat >/etc/apt/preferences.d/nodesource <<EOF
Package: nodejs
Pin: origin deb.nodesource.com
Pin-Priority: 600
EOF
  "${APT[@]}" update -qq
  "${APT[@]}" install -y -qq nodejs
fi
echo "==> node $(node --version), npm $(npm --version)"

[ -f "$BERTH_DIR/scripts/install.sh" ] || {
  echo "error: no berth checkout at $BERTH_DIR (is the synced folder there? try: vagrant reload)" >&2
  exit 1
}
bash "$BERTH_DIR/scripts/install.sh" --busybox-image

echo "==> smoke test: berth run --rm busybox echo hi"
if out=$(berth run --rm busybox echo hi </dev/null 2>&1) && [ "$out" = hi ]; then
  echo "hi: berth works. Try: vagrant ssh -c 'sudo berth run --rm busybox echo hi'"
else
  echo "warning: 'berth run --rm busybox echo hi' did not print hi:" >&2
  echo "$out" >&2
fi
