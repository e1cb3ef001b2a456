#!/usr/bin/perl
# malformed.pl CASE [ARG...]: a client stream of the serve protocol that is
# wrong in one way, on stdout (big-add SIZE: a right one, for cutting short).
# The cases are listed at the end; the add-* and import-* ones are well-formed
# requests that a policy must refuse and the real Nix client never sends.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);

sub u64 { pack 'Q<', $_[0] }
sub str { my $s = shift; u64(length $s) . $s . ("\0" x ((8 - length($s) % 8) % 8)) }
sub hello { u64(0x390c9deb) . u64(0x207) }
my $H = '0mdqa9w1p6cmli6976v4wi0sw9r4p5pr';
my $P = "/nix/store/$H-malformed";

# NAR pieces
sub tok { join '', map { str($_) } @_ }
sub reg { tok('(', 'type', 'regular', 'contents', $_[0], ')') }
sub dir { my $s = tok('(', 'type', 'directory'); while (@_) { my ($n, $node) = splice @_, 0, 2; $s .= tok('entry', '(', 'name', $n, 'node') . $node . tok(')') } $s . tok(')') }
sub nar { tok('nix-archive-1') . $_[0] }
sub deep { my $n = shift; my $s = reg('x'); $s = dir('d', $s) for 1 .. $n; nar($s) }

# AddToStoreNar of a NAR, declaring size and hash (defaults: the real ones),
# references (kept as given, repeats too) and content address
sub add {
	my ($nar, %o) = @_;
	my $size = $o{size} // length $nar;
	my $hash = $o{hash} // sha256_hex($nar);
	my $body = defined $o{cut} ? substr($nar, 0, $o{cut}) : $nar;
	my @refs = @{$o{refs} // []};
	hello() . u64(9) . str($o{path} // $P) . str('') . str($hash) . u64(scalar @refs) . join('', map { str($_) } @refs) .
		u64(0) . u64($size) . u64(0) . u64(0) . str($o{ca} // '') . $body;
}
sub slurp { local $/; open my $f, '<', $_[0] or die "$_[0]: $!"; binmode $f; <$f> }
sub query_path { hello() . u64(2) . u64(1) . str($_[0]) }

my %cases = (
	'empty' => sub { '' },
	'truncated-handshake' => sub { substr(u64(0x390c9deb), 0, 4) },
	'wrong-magic' => sub { u64(0x12345678) . u64(0x207) },
	'wrong-major' => sub { u64(0x390c9deb) . u64(0x307) },
	'string-2^63' => sub { hello() . u64(2) . u64(1) . u64(1 << 63) },
	'count-2^40' => sub { hello() . u64(1) . u64(0) . u64(0) . u64(1 << 40) },
	'padding-not-zero' => sub { hello() . u64(2) . u64(1) . u64(length $P) . $P . "\1" x ((8 - length($P) % 8) % 8) },
	'unknown-command' => sub { hello() . u64(77) },
	'bad-hash-chars' => sub { query_path('/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x') },
	'wrong-hash-length' => sub { query_path('/nix/store/0mdqa9w1p6cmli6976v4wi0sw9r4p5p-x') },
	'bad-name' => sub { query_path("/nix/store/$H-a b") },
	'outside-store' => sub { query_path("/tmp/store/$H-x") },
	'nar-dotdot' => sub { add(nar(dir('..', reg('x')))) },
	'nar-slash' => sub { add(nar(dir('a/b', reg('x')))) },
	'nar-nul' => sub { add(nar(dir("a\0b", reg('x')))) },
	'nar-unsorted' => sub { add(nar(dir('b', reg('x'), 'a', reg('y')))) },
	'nar-duplicate' => sub { add(nar(dir('a', reg('x'), 'a', reg('y')))) },
	'nar-deep-10000' => sub { add(deep(10000)) },
	'nar-longer-than-declared' => sub { my $n = nar(reg('x' x 100)); add($n, size => length($n) - 16) },
	'nar-hash-mismatch' => sub { add(nar(reg('hash mismatch')), hash => sha256_hex('other')) },
	'stdin-closed-in-nar' => sub { my $n = nar(reg('y' x 4000)); add($n, cut => 1000) },
	# bytes outside ASCII where a hash belongs: they end up in the error text
	'add-hash-bytes' => sub { add(nar(reg('x')), hash => "\x7f\xff\xfe\x01\x1b[2J" x 8) },
	'big-add' => sub { add(nar(reg('z' x $ARGV[1]))) },
	# add-claim NARFILE PATH CA [REF...]: that NAR claimed as PATH with content address CA
	'add-claim' => sub { add(slurp($ARGV[1]), path => $ARGV[2], ca => $ARGV[3], refs => [@ARGV[4 .. $#ARGV]]) },
	# the header of a NAR of 1 TiB + 1 byte, and not one byte of it
	'add-over-1TiB' => sub { add(nar(reg('x')), size => (1 << 40) + 1, cut => 0) },
	# ImportPaths of a NAR whose one file says it has 1 TiB + 1 byte, and not one byte of them
	'import-over-1TiB' => sub { hello() . u64(4) . u64(1) . tok('nix-archive-1', '(', 'type', 'regular', 'contents') . u64((1 << 40) + 1) },
	'nar-file' => sub { local $/; open my $f, '<', $ARGV[1] or die "$ARGV[1]: $!"; add(nar_raw(<$f>)) },
);
sub nar_raw { $_[0] }

my $c = $cases{$ARGV[0] // ''} or die "malformed.pl: unknown case; cases: " . join(' ', sort keys %cases) . "\n";
binmode STDOUT;
print $c->();
