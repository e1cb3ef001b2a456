# Sourced by tests/run.sh and tests/fuzz/run.sh: the files of the shared test
# data (NIX_TEST_DATA, when it is there) that fit a harness as seeds.
shared_seeds() { # harness
	[ -n "${NIX_TEST_DATA:-}" ] && [ -d "$NIX_TEST_DATA" ] || return 0
	case $1 in
	nar) ls "$NIX_TEST_DATA"/nars/*.nar ;;
	aterm) ls "$NIX_TEST_DATA"/derivations/*.drv ;;
	wire) ls "$NIX_TEST_DATA"/serve-protocol/*.bin "$NIX_TEST_DATA"/worker-protocol/*.bin ;;
	worker) ls "$NIX_TEST_DATA"/worker-protocol/handshake-to-client.bin ;;
	values) ls "$NIX_TEST_DATA"/serve-protocol/*.bin "$NIX_TEST_DATA"/worker-protocol/*.bin ;;
	esac
}
