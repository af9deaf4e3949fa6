// SPDX-License-Identifier: Apache-2.0
// Umbrella header of scalora::glue: syn-* GLUE-style task generators with a
// rank dial, GLUE TSV writers and readers, tokenizer, pre-training text,
// metrics and shortcut audits. Standard library only (no Eigen needed).
#pragma once

#include "scalora/glue/audit.hpp"
#include "scalora/glue/dataset.hpp"
#include "scalora/glue/generator.hpp"
#include "scalora/glue/grammar.hpp"
#include "scalora/glue/lexicon.hpp"
#include "scalora/glue/metrics.hpp"
#include "scalora/glue/pretrain.hpp"
#include "scalora/glue/random.hpp"
#include "scalora/glue/relation.hpp"
#include "scalora/glue/sha256.hpp"
#include "scalora/glue/task.hpp"
#include "scalora/glue/tokenizer.hpp"
#include "scalora/glue/tsv.hpp"
