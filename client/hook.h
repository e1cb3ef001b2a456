/* hook: nixgate as the build hook of root's nix-daemon (build-hook =
 * .../nixgate-build-hook): picks a build host, copies what the build needs,
 * builds the .drv by path there (so an untrusted key will do), and brings
 * the outputs back into the local store. */
#ifndef NIXGATE_HOOK_H
#define NIXGATE_HOOK_H

int hook_main(int argc, char **argv);

#endif
