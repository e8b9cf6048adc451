// The public host API of mote, in one include.
#pragma once

#include "mote/config.hpp"
#include "mote/error.hpp"
#include "mote/host_functions.hpp"
#include "mote/sandbox.hpp"
#include "mote/value.hpp"
