#!/usr/bin/perl
# olddaemon.pl SOCKET LOG: a stand-in nix-daemon that speaks worker protocol
# 1.21 (Nix 2.3's lowest that nixgate takes), where AddToStoreNar pulls the
# NAR through STDERR_READ requests. One connection; what it received goes to
# LOG: "added PATH SIZE hash-ok|hash-bad".
use strict;
use warnings;
use IO::Socket::UNIX;
use Digest::SHA;

my ($path, $log) = @ARGV;
unlink $path;
my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $path, Listen => 1) or die "olddaemon: $path: $!";
chmod 0777, $path;
open my $out, '>>', $log or die "olddaemon: $log: $!";
$out->autoflush(1);
my $c = $srv->accept or die "olddaemon: accept: $!";

sub rd { my $n = shift; my $b = ''; while (length $b < $n) { my $k = sysread($c, $b, $n - length $b, length $b); die "olddaemon: short read\n" unless $k; } $b }
sub u64 { unpack 'Q<', rd(8) }
sub str { my $n = u64(); my $s = rd($n); rd((8 - $n % 8) % 8); $s }
sub strs { my $n = u64(); map { str() } 1 .. $n }
sub put { print $c pack('Q<*', @_) }
sub putstr { my $s = shift; put(length $s); print $c $s, "\0" x ((8 - length($s) % 8) % 8) }
my $LAST = 0x616c7473;
my $READ = 0x64617461;

die "olddaemon: bad magic\n" unless u64() == 0x6e697863;
put(0x6478696f, 0x115);
my $minor = u64() & 0xff;
u64() if $minor >= 14 and u64();   # CPU affinity
u64() if $minor >= 11;             # reserve space
put($LAST);
$c->flush;
while (1) {
	my $op = eval { u64() };
	last unless defined $op;
	if ($op == 19) {                 # SetOptions
		u64() for 1 .. 12;
		my $n = u64(); str() for 1 .. 2 * $n;
		put($LAST);
	} elsif ($op == 31) {            # QueryValidPaths: nothing is valid here
		strs();
		put($LAST, 0);
	} elsif ($op == 39) {            # AddToStoreNar, the NAR tunnelled
		my $p = str(); str(); my $hash = str(); strs(); u64(); my $size = u64(); u64(); strs(); str(); u64(); u64();
		my ($got, $sha) = (0, Digest::SHA->new(256));
		while ($got < $size) {
			my $want = $size - $got > 65536 ? 65536 : $size - $got;
			put($READ, $want);
			$c->flush;
			my $d = str();
			die "olddaemon: empty read\n" unless length $d;
			$got += length $d;
			$sha->add($d);
		}
		print $out "added $p $got ", ($sha->hexdigest eq $hash ? 'hash-ok' : 'hash-bad'), "\n";
		put($LAST);
	} else {
		die "olddaemon: operation $op is not played here\n";
	}
	$c->flush;
}
