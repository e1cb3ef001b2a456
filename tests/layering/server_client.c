/* server may not see client/: this must not compile with its include paths. */
#include "remote.h"
