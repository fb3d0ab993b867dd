#!/usr/bin/env bash
# Provision this host for the test world (src/testenv): Debian packages, /run/sshd, the unprivileged
# account the executables run as. Idempotent: prints nothing and changes nothing when all is present.
# Fails loudly (non-zero exit, message on stderr) when something cannot be set up; it never skips.
# Needs root when anything is missing. Used by CI and by src/testenv/provision.ts.
set -euo pipefail

PACKAGES=(krb5-kdc krb5-admin-server krb5-user openssh-server openssh-client rsync iputils-ping
  prometheus-pushgateway iproute2 util-linux libcap2-bin openssl jsonnet)
TEST_USER="${MT_TEST_USER:-mtuser}"

die() { echo "provision.sh: $*" >&2; exit 1; }

# Parallel test files may provision at the same time: serialise (apt/dpkg and useradd take their own
# locks and would fail instead of waiting).
if [[ $EUID -eq 0 ]]; then
  exec 9>/run/mtworld-provision.lock || die "cannot open /run/mtworld-provision.lock"
  flock -w 600 9 || die "timed out waiting for another provisioning run"
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == ii* ]] || missing+=("$pkg")
done

if ((${#missing[@]} > 0)); then
  [[ $EUID -eq 0 ]] || die "packages missing (${missing[*]}) and installing them needs root"
  echo "provision.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
fi

for tool in /usr/sbin/krb5kdc /usr/sbin/kdb5_util /usr/sbin/kadmin.local /usr/bin/kinit /usr/bin/klist \
  /usr/sbin/sshd /usr/bin/ssh /usr/bin/ssh-keygen /usr/bin/rsync /usr/bin/ping /usr/sbin/ip \
  /usr/bin/unshare /usr/bin/nsenter /usr/bin/setpriv /usr/bin/openssl /usr/bin/jsonnet; do
  [[ -x "$tool" ]] || die "$tool is missing after installing packages"
done

if [[ ! -d /run/sshd ]]; then
  [[ $EUID -eq 0 ]] || die "/run/sshd is missing and creating it needs root"
  mkdir -p /run/sshd && chmod 0755 /run/sshd || die "cannot create /run/sshd"
fi

if ! getent passwd "$TEST_USER" >/dev/null; then
  [[ $EUID -eq 0 ]] || die "account $TEST_USER is missing and creating it needs root"
  useradd --create-home --shell /bin/bash "$TEST_USER" 2>/dev/null || getent passwd "$TEST_USER" >/dev/null ||
    die "useradd $TEST_USER failed"
fi

# Unprivileged ping needs the raw-socket capability on the binary (Debian sets it; restore if lost).
if ! getcap /usr/bin/ping 2>/dev/null | grep -q cap_net_raw; then
  [[ $EUID -eq 0 ]] || die "/usr/bin/ping lacks cap_net_raw and restoring it needs root"
  setcap cap_net_raw+ep /usr/bin/ping || die "setcap cap_net_raw+ep /usr/bin/ping failed"
fi
exit 0
