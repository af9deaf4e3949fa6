// SPDX-License-Identifier: Apache-2.0
// Umbrella of scalora::io (target scalora::io): tensor files in safetensors, npy
// and npz, read_tensor_file() (the format from the first bytes), case files,
// whole-file reads and atomic writes, SHA-256.
#pragma once

#include "scalora/io/case_file.hpp"
#include "scalora/io/dtype.hpp"
#include "scalora/io/file.hpp"
#include "scalora/io/output_dir.hpp"
#include "scalora/io/io_error.hpp"
#include "scalora/io/npy.hpp"
#include "scalora/io/npz.hpp"
#include "scalora/io/safetensors.hpp"
#include "scalora/io/sha256.hpp"
#include "scalora/io/tensor.hpp"
#include "scalora/io/tensor_file.hpp"
