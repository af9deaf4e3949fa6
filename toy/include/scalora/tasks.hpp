// SPDX-License-Identifier: Apache-2.0
// Umbrella header of scalora::tasks: syn-* GLUE-style task generators with a
// rank dial, GLUE TSV writers and readers, tokenizer, pre-training text,
// metrics and shortcut audits. Standard library only (no Eigen needed).
#pragma once

#include "scalora/tasks/audit.hpp"
#include "scalora/tasks/dataset.hpp"
#include "scalora/tasks/generator.hpp"
#include "scalora/tasks/grammar.hpp"
#include "scalora/tasks/lexicon.hpp"
#include "scalora/tasks/metrics.hpp"
#include "scalora/tasks/pretrain.hpp"
#include "scalora/tasks/random.hpp"
#include "scalora/tasks/relation.hpp"
#include "scalora/tasks/task.hpp"
#include "scalora/tasks/tokenizer.hpp"
#include "scalora/tasks/tsv.hpp"
