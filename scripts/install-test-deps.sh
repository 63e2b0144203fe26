#!/usr/bin/env bash
# Installs, with apt-get, the tools rewind's tests drive for real and the
# machine lacks. Idempotent: does nothing when everything is present.
set -euo pipefail
declare -A need=(
  [fusermount3]=fuse3 [qemu-img]=qemu-utils [qemu-nbd]=qemu-utils [qemu-io]=qemu-utils
  [nbdkit]=nbdkit [mkfs.ext4]=e2fsprogs [mkfs.xfs]=xfsprogs [mkfs.vfat]=dosfstools
  [mcopy]=mtools [mkntfs]=ntfs-3g [ntfs-3g]=ntfs-3g [sgdisk]=gdisk [sfdisk]=fdisk
  [lvm]=lvm2 [setfattr]=attr [setfacl]=acl [systemd-analyze]=systemd
  [losetup]=mount [useradd]=passwd [blkid]=util-linux [mkswap]=util-linux
  [rsync]=rsync [setcap]=libcap2-bin [chattr]=e2fsprogs
  [debootstrap]=debootstrap [systemd-nspawn]=systemd-container [nsenter]=util-linux
)
missing=()
for tool in "${!need[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1 || missing+=("${need[$tool]}")
done
[ -e /dev/fuse ] || missing+=(fuse3)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
echo "installing test tools: $pkgs"
if [ "$(id -u)" -ne 0 ]; then
  echo "run as root, or install them yourself: apt-get install $pkgs" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
modprobe fuse 2>/dev/null || true
