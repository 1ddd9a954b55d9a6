# Assembles a minimal container root from this machine's own files and imports it as an image, so that
# images can be made with no registry at all. Sourced by build-image.sh and build-redis-image.sh.
# Needs: ldd (libc-bin), GNU tar, a docker client.

# root_new DIR: an empty root with /tmp (sticky, world-writable) and the /etc files every program expects.
root_new() {
  local root=$1
  rm -rf "$root"
  mkdir -p "$root/etc" "$root/usr/local/bin"
  mkdir -m 1777 "$root/tmp"
  # Host names from /etc/hosts first, then DNS (Docker writes both files into every container).
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

# root_add_user DIR NAME UID HOME: a user with a group of the same name and id, and no login shell.
root_add_user() {
  local root=$1 name=$2 uid=$3 home=$4
  printf '%s:x:%s:%s:%s:%s:/sbin/nologin\n' "$name" "$uid" "$uid" "$name" "$home" >>"$root/etc/passwd"
  printf '%s:x:%s:\n' "$name" "$uid" >>"$root/etc/group"
}

# root_add_executable DIR SOURCE DEST: SOURCE at DEST inside the root, with the libraries it needs.
root_add_executable() {
  local root=$1 source=$2 dest=$3
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$source" "$root$dest"
  chmod 0755 "$root$dest"
  root_add_libraries_of "$root" "$source"
}

# root_add_libraries_of DIR EXECUTABLE: every shared library ldd names for EXECUTABLE, and the dynamic
# loader, each at the path the loader looks for it.
root_add_libraries_of() {
  local root=$1 executable=$2 library
  # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)";
  # linux-vdso has no file. A "not found" line fails the build instead of the container.
  if ldd "$executable" | grep -q 'not found'; then
    echo "image-root: $executable needs libraries this machine lacks:" >&2
    ldd "$executable" | grep 'not found' >&2
    return 1
  fi
  for library in $(ldd "$executable" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    root_add_library "$root" "$library"
  done
}

# root_add_library DIR PATH: one library (its content, symlinks followed) at PATH inside the root.
root_add_library() {
  local root=$1 library=$2
  [ -e "$root$library" ] && return 0
  mkdir -p "$root$(dirname "$library")"
  cp -L "$library" "$root$library"
}

# root_import DIR TAG OWNED_DIR UID [docker import -c CHANGE]...: the root as image TAG. Every file is owned
# by root, except OWNED_DIR (a directory inside the root, e.g. /data; "" for none) and what it holds, owned by UID:UID.
root_import() {
  local root=$1 tag=$2 owned=$3 uid=$4 archive
  shift 4
  local changes=()
  for change in "$@"; do changes+=(-c "$change"); done
  archive=$(mktemp)
  tar --owner=0 --group=0 --numeric-owner ${owned:+--exclude=".$owned"} -C "$root" -cf "$archive" .
  [ -n "$owned" ] && tar --owner="$uid" --group="$uid" --numeric-owner -C "$root" -rf "$archive" ".$owned"
  docker import "${changes[@]}" "$archive" "$tag" >/dev/null || { rm -f "$archive"; return 1; }
  rm -f "$archive"
}
