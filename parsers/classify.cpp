// placeholder until its owner fills it
#include "parsers/classify.h"
