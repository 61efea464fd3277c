#include "store/inbox.h"
