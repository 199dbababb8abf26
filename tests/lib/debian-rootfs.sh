# Sourced by the tests that need a clean Debian 12 root (bash).

# make_debian_rootfs TARBALL LOG: a debootstrapped Debian bookworm (minbase) as a tar file, slimmed
# like the official debian:bookworm-slim image (no docs, man pages, locales or apt lists; dpkg
# told to skip them in later installs; services never started by package scripts). The
# container test imports it as debian:bookworm-slim; the fresh-machine test installs into it.
# Returns 1 (with the log's tail on stderr) when debootstrap fails.
make_debian_rootfs() {
    local tarball=$1 log_file=$2 rootfs
    rootfs=$(mktemp -d "$(dirname "$tarball")/rootfs.XXXXXX")
    if ! debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian \
        >"$log_file" 2>&1; then
        rm -rf "$rootfs"
        tail -n 20 "$log_file" >&2
        return 1
    fi
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
EOF
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 755 "$rootfs/usr/sbin/policy-rc.d"
    rm -f "$rootfs/etc/apt/sources.list"
    cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    local root=${rootfs:?}
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$root"/usr/share/{man,info,groff,lintian,locale}/* \
        "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
        "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log "${root:?}"/dev/*
    tar -C "$rootfs" -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
    rm -rf "$rootfs"
}
