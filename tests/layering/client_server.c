/* client may not see server/: this must not compile with its include paths. */
#include "serve.h"
