// The public host API of mote, in one include.
#pragma once

#include "mote/config.hpp"
#include "mote/error.hpp"
#include "mote/hardening.hpp"
#include "mote/host_functions.hpp"
#include "mote/interrupt.hpp"
#include "mote/pool.hpp"
#include "mote/sandbox.hpp"
#include "mote/snapshot.hpp"
#include "mote/value.hpp"
