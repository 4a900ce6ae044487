#include "CSGShim.h"
