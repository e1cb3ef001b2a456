# The derivations of the drvhash fixtures; see make.sh.
let
  sys = "x86_64-linux";
  mk = a: derivation ({ system = sys; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; } // a);
  leaf = mk { name = "leaf"; };
  dep = mk { name = "dep"; inherit leaf; };
  base = mk { name = "base"; };
  left = mk { name = "left"; inherit base; };
  right = mk { name = "right"; inherit base; };
  diamond = mk { name = "diamond"; inherit left right; };
  fod = mk { name = "fod.tar"; outputHashMode = "recursive"; outputHashAlgo = "sha256";
    outputHash = "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"; };
  flat = mk { name = "flat"; outputHashAlgo = "sha1"; outputHash = "da39a3ee5e6b4b0d3255bfef95601890afd80709"; };
  usesfod = mk { name = "usesfod"; inherit fod flat; };
  # another builder of fod's output: both hash modulo alike, and share one
  # entry in the hash modulo of what needs both
  fod2 = mk { name = "fod.tar"; outputHashMode = "recursive"; outputHashAlgo = "sha256";
    outputHash = "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"; args = [ "-c" "true" ]; };
  usesboth = mk { name = "usesboth"; inherit fod; fod2 = fod2; };
  # enough inputs that their hashes modulo sort otherwise than their paths
  many = mk { name = "many"; inherit leaf dep base left right flat; m = multi.out; };
  multi = mk { name = "multi"; outputs = [ "out" "dev" "lib" ]; };
  usesdev = mk { name = "usesdev"; dev = multi.dev; lib = multi.lib; src = builtins.toFile "src.txt" "a source\n"; };
  structured = mk { name = "structured"; __structuredAttrs = true; outputs = [ "out" "doc" ];
    list = [ 1 "two" ]; inherit leaf; };
  escapes = mk { name = "escapes"; v = "quote \" backslash \\ newline \n tab \t cr \r dollar \${x} end";
    args = [ "-c" "printf '%s\\n' \"$v\" > $out" ]; inherit dep; };
in { inherit dep diamond usesfod usesboth usesdev many structured escapes; }
