#!/bin/sh
# Builds the YNL C peer of the benchmarks: ./build.sh OUT
#
# Fetches Debian's linux-source-7.3 with the same private apt route as the
# test kernels (go run ./internal/vmtest -source; cached with them), unpacks
# the parts tools/net/ynl needs into the cache once, builds YNL's library and
# the netdev and ethtool families there once, and links ynlbench.c against
# them as OUT/ynlbench. Needs gcc, make, python3 with PyYAML and jsonschema.
# YNL_KERNEL_SOURCE=path/to/linux-source-X.tar.xz uses that tarball instead.
set -e
out=$(realpath "${1:?usage: build.sh OUT}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
tarball=${YNL_KERNEL_SOURCE:-$(cd "$repo" && go run ./internal/vmtest -kernel 7.3 -source)}
cache=$(dirname "$tarball")/ynl
top=linux-source-7.3
if [ -n "$YNL_KERNEL_SOURCE" ]; then
	top=$(tar -tJf "$tarball" | head -1 | cut -d/ -f1)
fi
tree=$cache/$top
if [ ! -f "$cache/built" ]; then
	rm -rf "$cache"
	mkdir -p "$cache"
	tar -xJf "$tarball" -C "$cache" --wildcards \
		"$top/tools/net/ynl" "$top/tools/include" "$top/include/uapi" \
		"$top/Documentation/netlink" "$top/tools/scripts" "$top/tools/build" \
		"$top/tools/arch/x86/include" "$top/scripts" "$top/arch/x86/include/uapi" \
		"$top/tools/testing/selftests/kselftest*"
	# ynl_gen_c.py walks up looking for MAINTAINERS to find the tree's top.
	touch "$tree/MAINTAINERS"
	make -s -C "$tree/tools/net/ynl/lib" ynl.a
	make -s -C "$tree/tools/net/ynl/generated" netdev-user.o ethtool-user.o
	touch "$cache/built"
fi
ynl=$tree/tools/net/ynl
uapi=$tree/include/uapi
gcc -std=gnu11 -O2 -Wall -o "$out/ynlbench" "$here/ynlbench.c" \
	-I"$ynl/lib" -I"$ynl/generated" -idirafter "$uapi" \
	-D_LINUX_TYPELIMITS_H -include "$uapi/linux/typelimits.h" \
	-D_LINUX_ETHTOOL_H -include "$uapi/linux/ethtool.h" \
	-D_LINUX_ETHTOOL_NETLINK_H_ -include "$uapi/linux/ethtool_netlink.h" \
	-D_LINUX_ETHTOOL_NETLINK_GENERATED_H -include "$uapi/linux/ethtool_netlink_generated.h" \
	-D_LINUX_NETDEV_H -include "$uapi/linux/netdev.h" \
	"$ynl/generated/netdev-user.o" "$ynl/generated/ethtool-user.o" "$ynl/lib/ynl.a" \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
