# Distribution packages, built from a copy of the tree under build/ so that
# the source tree never gets a ./debian directory or packaging debris.
#   make deb             build/deb/collectd-tcpstates_VERSION_ARCH.deb, lintian
#   make rpm             build/rpm/RPMS/ARCH/collectd-tcpstates-VERSION-1.ARCH.rpm
#   make packages-check  tests/test-packages.sh (root: installs and removes)
# Included from the top-level Makefile; the build tools are installed
# with apt-get when missing (tests/tools/deps.sh deb|rpm).

PKG_NAME := collectd-tcpstates
PKG_OUT := build
DEB_OUT := $(PKG_OUT)/deb
RPM_TOPDIR := $(PKG_OUT)/rpm
RPM_SPEC := packaging/rpm/$(PKG_NAME).spec
# One version for both: the first line of debian/changelog and the spec's
# Version: must agree (checked by pkg-version).
PKG_VERSION = $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' \
	packaging/debian/changelog)
RPM_VERSION = $(shell sed -n 's/^Version:[[:space:]]*//p' $(RPM_SPEC))
PKG_TREE = $(PKG_NAME)-$(PKG_VERSION)
# What a copy of the tree holds: the sources as they are now, committed or
# not, and no build output (a new top-level source folder is added here).
PKG_SOURCES = $(wildcard Makefile README.md CONTRIBUTING.md LICENSE \
	.clang-format conf include plugin tests packaging)
PKG_EXCLUDES := --exclude=tests/tools/sockmaker --exclude='*.o' \
	--exclude='*.so' --exclude='*.a'
# A package is built from its own copy of the tree with its own flags:
# nothing of the caller's make or build may reach it (the tests export
# an absolute BUILD, which would link the caller's objects, sanitized
# ones under make asan, into the package).
PKG_CLEAN_ENV := -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u CFLAGS \
	-u CPPFLAGS -u LDFLAGS -u TCPS_SANITIZE
LINTIAN_FLAGS ?= --fail-on error,warning --display-info --pedantic

.PHONY: deb rpm packages-check deps-deb deps-rpm pkg-version

deps-deb:
	$(Q)tests/tools/deps.sh deb
deps-rpm:
	$(Q)tests/tools/deps.sh rpm

pkg-version:
	$(Q)test -n "$(PKG_VERSION)" && test "$(PKG_VERSION)" = "$(RPM_VERSION)" \
		|| { echo "version mismatch: debian/changelog has" \
			"'$(PKG_VERSION)', the spec '$(RPM_VERSION)'" >&2; exit 1; }

# copy-tree DIR: the working tree as it is now (committed or not) into DIR.
define copy-tree
rm -rf $(1) && mkdir -p $(1)
tar -cf - $(PKG_EXCLUDES) $(PKG_SOURCES) | tar -xf - -C $(1)
endef

# The unpacked build trees are removed afterwards, failed or not (keep
# them with PKG_KEEP=1): the top Makefile's `find build -name '*.d'`
# would otherwise meet their etc/collectd/collectd.conf.d directories.
# The Debian build runs with a clean make environment: debian/rules
# alone decides the flags, as on a build daemon.
deb: deps-deb pkg-version
	rm -rf $(DEB_OUT)
	$(call copy-tree,$(DEB_OUT)/$(PKG_TREE))
	cp -a packaging/debian $(DEB_OUT)/$(PKG_TREE)/debian
	rc=0; (cd $(DEB_OUT)/$(PKG_TREE) && \
		env $(PKG_CLEAN_ENV) \
		dpkg-buildpackage -us -uc -b -Jauto) || rc=$$?; \
	$(if $(PKG_KEEP),,rm -rf $(DEB_OUT)/$(PKG_TREE);) exit $$rc
	lintian $(LINTIAN_FLAGS) $(DEB_OUT)/*.changes
	@ls -1 $(DEB_OUT)/*.deb

rpm: deps-rpm pkg-version
	rm -rf $(RPM_TOPDIR)
	mkdir -p $(RPM_TOPDIR)/SOURCES
	$(call copy-tree,$(RPM_TOPDIR)/tree/$(PKG_TREE))
	tar -C $(RPM_TOPDIR)/tree --sort=name --owner=0 --group=0 \
		--numeric-owner -czf $(RPM_TOPDIR)/SOURCES/$(PKG_TREE).tar.gz \
		$(PKG_TREE)
	rm -rf $(RPM_TOPDIR)/tree
	rc=0; env $(PKG_CLEAN_ENV) \
		rpmbuild --define "_topdir $(abspath $(RPM_TOPDIR))" --nodeps \
		-bb $(RPM_SPEC) || rc=$$?; \
	$(if $(PKG_KEEP),,rm -rf $(RPM_TOPDIR)/BUILD $(RPM_TOPDIR)/BUILDROOT;) \
	exit $$rc
	@ls -1 $(RPM_TOPDIR)/RPMS/*/*.rpm

packages-check:
	$(Q)tests/test-packages.sh
