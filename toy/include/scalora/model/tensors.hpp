// SPDX-License-Identifier: Apache-2.0
// Named views of model and optimizer tensors: trainable parameters with their
// gradients (for optimizers) and every stored tensor (for checkpoints).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scalora/linalg/types.hpp"

namespace scalora::model {

/// A trainable tensor and its gradient, both viewed as column-major rows x cols.
/// Views point into the model; they stay valid while the model is alive and
/// not reconfigured (shapes never change after construction). The views are
/// mutable: a const Param still writes through to the model's storage.
template <class T>
struct Param {
  std::string name;
  mutable MatrixView<T> value;
  mutable MatrixView<T> grad;
  bool decay;      ///< AdamW/SGD weight decay applies (matrices: yes; biases, layer norms: no)
  bool is_vector;  ///< a 1-D tensor (bias, layer-norm gain or shift)
};

/// A stored tensor by its stable name (docs/model.md, "Names"). The data are
/// column-major: the bytes of an m x n tensor are the row-major bytes of its
/// n x m transpose. is_vector: a 1-D tensor of rows() entries (cols() == 1).
template <class T>
struct NamedTensor {
  std::string name;
  mutable MatrixView<T> data;
  bool is_vector;
};

/// An integer state entry (optimizer step counters).
struct NamedCounter {
  std::string name;
  std::int64_t* value;
};

/// Views of owned storage; (nullptr, 0, 0) marks an absent tensor (types.hpp).
template <class T>
MatrixView<T> view(Matrix<T>& m) {
  return MatrixView<T>(m.data(), m.rows(), m.cols());
}
template <class T>
MatrixView<T> view(Vector<T>& v) {
  return MatrixView<T>(v.data(), v.size(), 1);
}
template <class T>
MatrixView<T> absent_view() {
  return MatrixView<T>(nullptr, 0, 0);
}

}  // namespace scalora::model
