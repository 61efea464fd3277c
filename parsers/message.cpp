// placeholder until its owner fills it
#include "parsers/message.h"
