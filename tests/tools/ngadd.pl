#!/usr/bin/perl
# ngadd.pl [OPTION...]: a worker-protocol client stream on stdout (nix-daemon
# --stdio, ssh-ng://) that asks the host to make a path of bytes it sends,
# as nix build --store ssh-ng:// and nix store add-file/add-path do:
#   --op 7|8          AddToStore (name, method, references, repair, the dump
#                     framed; from 1.25) or AddTextToStore (name, text,
#                     references)
#   --name N          the path's name (default ngadd)
#   --method M        AddToStore's method (default text:sha256)
#   --data S          the dump or text: these bytes
#   --data-file F     the dump or text: F's bytes
#   --nar-of ITEM     the dump: the NAR of a hostile.pl --item file
#   --text-len N      AddTextToStore's text claims N bytes (bytes as usual)
#   --ref P           a reference (repeat)
#   --minor N         the client's protocol minor (default 34)
#   --repair
#   --frame N         frames of N bytes (default 4096)
#   --frame-len N     the first frame's length claims N (bytes as usual)
#   --cut N           the framed part ends after N bytes, then the stream
use strict;
use warnings;
use Getopt::Long;

sub u64 { pack 'Q<', $_[0] }
sub str { my $s = shift; u64(length $s) . $s . ("\0" x ((8 - length($s) % 8) % 8)) }
sub slurp { local $/; open my $f, '<', $_[0] or die "$_[0]: $!"; binmode $f; <$f> }

my ($op, $name, $method, $minor, $repair, $frame, $flen, $cut, $data, $file, $item, $tlen) =
	(7, 'ngadd', 'text:sha256', 34, 0, 4096);
my @refs;
GetOptions('op=i' => \$op, 'name=s' => \$name, 'method=s' => \$method, 'minor=i' => \$minor,
	   'repair' => \$repair, 'frame=i' => \$frame, 'frame-len=i' => \$flen, 'cut=i' => \$cut,
	   'data=s' => \$data, 'data-file=s' => \$file, 'nar-of=s' => \$item, 'ref=s' => \@refs,
	   'text-len=i' => \$tlen)
	or die "ngadd.pl: bad options\n";
$data = slurp($file) if defined $file;
if (defined $item) {
	my $d = slurp($item);
	$data = substr($d, 8 + unpack('Q<', substr($d, 0, 8)));
}
$data //= '';
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
	$out . (defined $cut ? '' : u64(0));
}
my $refs = u64(scalar @refs) . join('', map { str($_) } sort @refs);
binmode STDOUT;
my $s = u64(0x6e697863) . u64(0x100 + $minor) . u64(0) . u64(0);
$s .= u64(0) if $minor >= 38;
if ($op == 7) {
	$s .= u64(7) . str($name) . str($method) . $refs . u64($repair) . framed($data);
} else {
	my $t = str($data);
	substr($t, 0, 8) = u64($tlen) if defined $tlen;
	$s .= u64(8) . str($name) . $t . $refs;
}
print $s;
