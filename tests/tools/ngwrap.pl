#!/usr/bin/perl
# ngwrap.pl [OPTION...] ITEM...: a worker-protocol client stream on stdout
# (nix-daemon --stdio, ssh-ng://) that adds the paths of ITEM files, each
# as hostile.pl --item writes it (metadata, then NAR), as a client would:
#   --op 39|44        AddToStoreNar (one item: metadata, repair,
#                     dontCheckSigs, the NAR framed) or AddMultipleToStore
#                     (repair, dontCheckSigs, then framed: count, items)
#   --minor N         the client's protocol minor (default 34)
#   --repair, --no-check-sigs
#   --frame N         frames of N bytes (default 4096)
#   --frame-len N     the first frame's length claims N (bytes as usual)
#   --count N         AddMultipleToStore's count claims N
#   --cut N           the framed part ends after N bytes, then the stream
#   --no-end          no 0 frame at the end
#   --trailing S      these bytes after the items, inside the frames
use strict;
use warnings;
use Getopt::Long;

sub u64 { pack 'Q<', $_[0] }
sub slurp { local $/; open my $f, '<', $_[0] or die "$_[0]: $!"; binmode $f; <$f> }

my ($op, $minor, $repair, $nocheck, $frame, $flen, $count, $cut, $noend, $trailing) = (44, 34, 0, 0, 4096);
GetOptions('op=i' => \$op, 'minor=i' => \$minor, 'repair' => \$repair, 'no-check-sigs' => \$nocheck,
	   'frame=i' => \$frame, 'frame-len=i' => \$flen, 'count=i' => \$count, 'cut=i' => \$cut,
	   'no-end' => \$noend, 'trailing=s' => \$trailing)
	or die "ngwrap.pl: bad options\n";
my @items = map {
	my $d = slurp($_);
	my $n = unpack 'Q<', substr($d, 0, 8);
	[substr($d, 8, $n), substr($d, 8 + $n)];
} @ARGV;
sub framed {
	my $d = shift;
	my $out = '';
	my $first = 1;
	for (my $i = 0; $i < length $d; $i += $frame) {
		my $c = substr($d, $i, $frame);
		$out .= u64($first && defined $flen ? $flen : length $c) . $c;
		$first = 0;
	}
	$out = substr($out, 0, $cut) if defined $cut;
	$out . (defined $cut || $noend ? '' : u64(0));
}
binmode STDOUT;
my $s = u64(0x6e697863) . u64(0x100 + $minor) . u64(0) . u64(0);
$s .= u64(0) if $minor >= 38;
if ($op == 39) {
	die "ngwrap.pl: --op 39 takes one item\n" unless @items == 1;
	$s .= u64(39) . $items[0][0] . u64($repair) . u64($nocheck) . framed($items[0][1] . ($trailing // ''));
} else {
	$s .= u64(44) . u64($repair) . u64($nocheck) .
		framed(u64($count // scalar @items) . join('', map { $_->[0] . $_->[1] } @items) . ($trailing // ''));
}
print $s;
