/* All op launchers: one header per op family (conv, norm, elementwise). */
#pragma once
#include "runtime/vkm.h"
#include "runtime/ref/op_params.h"
#include "runtime/ops/ops_conv.h"
#include "runtime/ops/ops_norm.h"
#include "runtime/ops/ops_elem.h"
