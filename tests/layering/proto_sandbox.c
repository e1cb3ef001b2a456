/* proto may not see sandbox/: this must not compile with its include paths. */
#include "sandbox.h"
