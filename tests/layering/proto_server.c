/* proto may not see server/ (the policy): this must not compile with its include paths. */
#include "policy.h"
