// placeholder until its owner fills it
#include "parsers/body.h"
