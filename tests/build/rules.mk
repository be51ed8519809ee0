# Checks of the production binaries themselves (static, musl only, versioned).
LATE_TEST_SUITES += $(if $(PROGRAMS),"tests/build/run.sh '$(VERSION)' $(PROGRAMS)")
