// placeholder until its owner fills it
#include "parsers/parse.h"
