# A floating content-addressed derivation with a source input and two
# outputs: make.sh builds it with Nix and keeps its .drv and realisations.
derivation {
  name = "ca-two"; system = builtins.currentSystem; builder = "/bin/sh";
  __contentAddressed = true; outputHashMode = "recursive"; outputHashAlgo = "sha256";
  outputs = [ "out" "dev" ];
  src = builtins.toFile "ca-src.txt" "a source\n";
  args = [ "-c" "read x < $src; echo $x > $out; echo dev > $dev" ];
}
