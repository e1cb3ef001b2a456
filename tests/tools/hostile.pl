#!/usr/bin/perl
# hostile.pl [OPTION...]: a serve-protocol client stream on stdout, as an
# attacker with an untrusted key would send it: an AddToStoreNar of any NAR
# with any claim, references, signatures and deriver, the store path
# computed from the claim as Nix computes it, so that the claim gives the
# path and only what it says about the content may be wrong.
#   --name N            the path's name (default hostile)
#   --node KIND:DATA    the NAR: file:, exec:, link: (DATA the target), dir:
#                       (one file f holding DATA), big:SIZE (a file of SIZE
#                       bytes), nar:FILE (a NAR as it is)
#   --ca KIND           text, fixed:ALGO, fixed:r:ALGO (ALGO md5, sha1,
#                       sha256, sha512); without it the path is --path's
#   --claim KIND:DATA   the node the claim's hash is taken over (default:
#                       the NAR's own: the claim is true)
#   --ca-string S       this content address as it is (with --path)
#   --path P            this path, not the one the claim gives
#   --ref P             a reference (repeat); self for the path itself
#   --sig S, --deriver P
#   --regtime T         the registration time claimed (default 0: none)
#   --cut N             only the first N bytes of the NAR, then end
#   --size N            declare this NAR size, not the NAR's own
#   --hash-of KIND:DATA declare the NAR hash of this node, not the NAR's own
#   --print-path        print the path, the content address and the NAR
#                       hash as Nix prints it, and stop
#   --import-header     an ImportPaths request and the NAR's first bytes only
#   --item              only the path's metadata and NAR, for ngwrap.pl:
#                       u64 length of the metadata, the metadata, the NAR
#   --self-marks        every run of 32 '@' in the node's data is the path's
#                       own hash part: the claim is hashed with each one zero
#                       bytes and "|<offset>" appended per mark (as Nix up to
#                       2.16 hashes modulo a path's hash part), whatever the
#                       kind, then the marks are filled in
use strict;
use warnings;
use Digest::SHA qw(sha1 sha256 sha512 sha256_hex);
use Digest::MD5 qw(md5);
use Getopt::Long;

sub u64 { pack 'Q<', $_[0] }
sub str { my $s = shift; u64(length $s) . $s . ("\0" x ((8 - length($s) % 8) % 8)) }
sub tok { join '', map { str($_) } @_ }
sub slurp { local $/; open my $f, '<', $_[0] or die "$_[0]: $!"; binmode $f; <$f> }

# the NAR of a node
sub nar {
	my ($kind, $d) = split /:/, $_[0], 2;
	$d //= '';
	return slurp($d) if $kind eq 'nar';
	my $n = tok('nix-archive-1', '(', 'type');
	if ($kind eq 'file' || $kind eq 'exec') {
		$n .= tok('regular') . ($kind eq 'exec' ? tok('executable', '') : '') . tok('contents', $d);
	} elsif ($kind eq 'big') {
		$n .= tok('regular', 'contents', 'z' x $d);
	} elsif ($kind eq 'link') {
		$n .= tok('symlink', 'target', $d);
	} elsif ($kind eq 'dir') {
		$n .= tok('directory', 'entry', '(', 'name', 'f', 'node', '(', 'type', 'regular', 'contents', $d, ')', ')');
	} else {
		die "hostile.pl: unknown node kind '$kind'\n";
	}
	$n . tok(')');
}
# what a flat claim hashes: a file's contents (a link's target, as the daemon reads through it)
sub flat { my ($kind, $d) = split /:/, $_[0], 2; $kind eq 'big' ? 'z' x $d : $d // '' }

my %algo = (md5 => \&md5, sha1 => \&sha1, sha256 => \&sha256, sha512 => \&sha512);
my ($MARK, $marks, $regtime) = ('@' x 32, undef, 0);
# the bytes a claim hashes with --self-marks: marks zeroed, offsets appended
sub modulo {
	my $d = shift;
	return $d unless $marks;
	my ($out, @at) = ($d);
	while ($out =~ /\Q$MARK\E/g) { push @at, $-[0]; }
	$out =~ s/\Q$MARK\E/"\0" x 32/ge;
	$out . join('', map { "|$_" } @at);
}

# Nix base32: 5-bit groups from the most significant end of the little-endian bytes
sub b32 {
	my @b = unpack 'C*', $_[0];
	my $chars = '0123456789abcdfghijklmnpqrsvwxyz';
	my $len = int((@b * 8 - 1) / 5) + 1;
	my $s = '';
	for (my $n = $len - 1; $n >= 0; $n--) {
		my ($i, $j) = (int($n * 5 / 8), ($n * 5) % 8);
		my $c = ($b[$i] >> $j) | ($i + 1 < @b ? $b[$i + 1] << (8 - $j) : 0);
		$s .= substr($chars, $c & 31, 1);
	}
	$s;
}
sub store_path {
	my ($type, $h, $name) = @_;
	my @d = unpack 'C*', sha256("$type:sha256:" . unpack('H*', $h) . ":/nix/store:$name");
	my @f = (0) x 20;
	$f[$_ % 20] ^= $d[$_] for 0 .. 31;
	"/nix/store/" . b32(pack 'C*', @f) . "-$name";
}

my ($name, $node, $ca, $claim, $ca_string, $path, @refs, @sigs, $deriver, $cut, $size, $print, $header, $hash_of, $item) = ('hostile');
GetOptions('name=s' => \$name, 'node=s' => \$node, 'ca=s' => \$ca, 'claim=s' => \$claim,
	   'ca-string=s' => \$ca_string, 'path=s' => \$path, 'ref=s' => \@refs, 'sig=s' => \@sigs,
	   'deriver=s' => \$deriver, 'cut=i' => \$cut, 'size=i' => \$size, 'print-path' => \$print, 'import-header' => \$header, 'self-marks' => \$marks, 'regtime=i' => \$regtime,
	   'hash-of=s' => \$hash_of, 'item' => \$item)
	or die "hostile.pl: bad options\n";
die "hostile.pl: --node is needed\n" unless $node;
my $nar = nar($node);
$claim //= $node;
my $self = grep { $_ eq 'self' } @refs;
my @others = sort grep { $_ ne 'self' } @refs;

if ($ca) {
	my ($kind, $rest) = split /:/, $ca, 2;
	if ($kind eq 'text') {
		my $h = sha256(modulo(flat($claim)));
		$ca_string = 'text:sha256:' . b32($h);
		$path //= store_path(join(':', 'text', @others), $h, $name);
	} else {
		my $rec = $rest =~ s/^r://;
		my $f = $algo{$rest} or die "hostile.pl: unknown algorithm '$rest'\n";
		my $h = $f->(modulo($rec ? nar($claim) : flat($claim)));
		$ca_string = "fixed:" . ($rec ? 'r:' : '') . "$rest:" . b32($h);
		if ($rec && $rest eq 'sha256') {
			$path //= store_path(join(':', 'source', @others, $self ? 'self' : ()), $h, $name);
		} else {
			my $inner = sha256("fixed:out:" . ($rec ? 'r:' : '') . "$rest:" . unpack('H*', $h) . ":");
			$path //= store_path('output:out', $inner, $name);
		}
	}
}
die "hostile.pl: --ca or --path is needed\n" unless $path;
if ($marks) {
	my $part = substr($path, 11, 32);
	$nar =~ s/\Q$MARK\E/$part/g;
}
if ($print) { print "$path\n" . ($ca_string // '') . "\nsha256:" . b32(sha256($nar)) . "\n"; exit 0; }
@refs = sort map { $_ eq 'self' ? $path : $_ } @refs;

binmode STDOUT;
my $hello = u64(0x390c9deb) . u64(0x207);
if ($header) {
	print $hello . u64(4) . u64(1) . substr($nar, 0, 64);
	exit 0;
}
my $info = str($path) . str($deriver // '') . str(sha256_hex(defined $hash_of ? nar($hash_of) : $nar)) . u64(scalar @refs) .
	join('', map { str($_) } @refs) . u64($regtime) . u64($size // length $nar) . u64(0) . u64(scalar @sigs) .
	join('', map { str($_) } @sigs) . str($ca_string // '');
my $body = defined $cut ? substr($nar, 0, $cut) : $nar;
if ($item) { print u64(length $info) . $info . $body; exit 0; }
print $hello . u64(9) . $info . $body;
