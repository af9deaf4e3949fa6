// SPDX-License-Identifier: Apache-2.0
// Toy BERT-like pre-LN transformer encoder with LoRA: explicit forward, backward and tensor enumeration.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "scalora/linalg/random.hpp"
#include "scalora/model/config.hpp"
#include "scalora/model/layers.hpp"
#include "scalora/model/linear.hpp"

namespace scalora::model {

/// One pre-LN encoder block (docs/model.md):
///   X <- X + o(attn(q(LN1 X), k(LN1 X), v(LN1 X)))
///   X <- X + down(gelu(up(LN2 X)))
template <class T>
struct Block {
  LayerNorm<T> ln1, ln2;
  Linear<T> q, k, v, o;  ///< d x d
  Linear<T> up;          ///< d_ff x d
  Linear<T> down;        ///< d x d_ff
  Attention<T> attn;
  // Activations of the last forward (d x N unless noted).
  Matrix<T> h1, Q, K, V, ctx, h2;
  Matrix<T> U, tanh_u, act;  ///< d_ff x N: pre-activation, tanh(...) of GELU, gelu(U)

  Linear<T>* linear(Target t) {
    switch (t) {
      case target_q: return &q;
      case target_k: return &k;
      case target_v: return &v;
      case target_o: return &o;
      case target_mlp_up: return &up;
      case target_mlp_down: return &down;
      default: return nullptr;
    }
  }
};

namespace detail {
/// Seed of a tensor: FNV-1a of its name mixed with the model seed (splitmix64 finaliser),
/// so a tensor's initial values depend only on (seed, name), not on which other tensors exist.
inline std::uint64_t tensor_seed(std::uint64_t seed, const std::string& name) {
  std::uint64_t h = 1469598103934665603ull;
  for (const char ch : name) h = (h ^ std::uint64_t(static_cast<unsigned char>(ch))) * 1099511628211ull;
  std::uint64_t z = h ^ (seed + 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace detail

/// The encoder. T: float (training), double, mp50 (checks).
///
/// Tokens are columns of d x N blocks, N = B L, token (b, i) = column b L + i.
/// forward() returns the mean loss of the batch and keeps every activation;
/// backward() then OVERWRITES the gradients of all trainable tensors (and
/// grad_W = G of every linear layer when dense gradients are on).
template <class T>
class Transformer {
 public:
  explicit Transformer(const Config& config, std::uint64_t seed = 0) : cfg_(config) {
    validate(cfg_);
    const Index d = cfg_.d_model, V = cfg_.vocab_size;
    const bool full = cfg_.mode == Mode::full;
    tok_ = init_gaussian("embed.token", d, V, seed);
    pos_ = init_gaussian("embed.position", d, cfg_.max_len, seed);
    if (cfg_.n_segments > 0) seg_ = init_gaussian("embed.segment", d, cfg_.n_segments, seed);
    if (full) {
      grad_tok_ = Matrix<T>::Zero(d, V);
      grad_pos_ = Matrix<T>::Zero(d, cfg_.max_len);
      grad_seg_ = Matrix<T>::Zero(d, cfg_.n_segments);
    }
    blocks_.resize(std::size_t(cfg_.n_layers));
    for (Index i = 0; i < cfg_.n_layers; ++i) {
      Block<T>& blk = blocks_[std::size_t(i)];
      const std::string p = "layer" + std::to_string(i);
      blk.ln1 = LayerNorm<T>(p + ".ln1", d, T(cfg_.ln_eps));
      blk.ln2 = LayerNorm<T>(p + ".ln2", d, T(cfg_.ln_eps));
      blk.q = make_linear(p + ".attn.q", d, d, target_q, seed);
      blk.k = make_linear(p + ".attn.k", d, d, target_k, seed);
      blk.v = make_linear(p + ".attn.v", d, d, target_v, seed);
      blk.o = make_linear(p + ".attn.o", d, d, target_o, seed);
      blk.up = make_linear(p + ".mlp.up", cfg_.d_ff, d, target_mlp_up, seed);
      blk.down = make_linear(p + ".mlp.down", d, cfg_.d_ff, target_mlp_down, seed);
    }
    final_ln_ = LayerNorm<T>("final_ln", d, T(cfg_.ln_eps));
    if (cfg_.head == Head::sequence) {
      head_ = Linear<T>("head", cfg_.n_classes, d, 0, T(0));
      head_.W = init_gaussian("head.weight", cfg_.n_classes, d, seed);
      head_.prepare_gradients();
    } else {
      mlm_bias_ = Vector<T>::Zero(V);
      grad_mlm_bias_ = Vector<T>::Zero(V);
    }
  }

  const Config& config() const { return cfg_; }
  std::vector<Block<T>>& blocks() { return blocks_; }
  const std::vector<Block<T>>& blocks() const { return blocks_; }
  Linear<T>& head() { return head_; }  ///< Head::sequence: n_classes x d
  Matrix<T>& token_embedding() { return tok_; }  ///< d x V (column per token id; tied MLM decoder)

  /// Dense G = dl/dW_eff (m x n) for every linear layer of the blocks from the next backward
  /// on (in grad_W); for logging and oracles only: costs one m x n x N product per layer.
  void set_dense_gradients(bool on) {
    for (Block<T>& blk : blocks_)
      for (Linear<T>* l : {&blk.q, &blk.k, &blk.v, &blk.o, &blk.up, &blk.down}) {
        l->dense_grad = on;
        l->prepare_gradients();
      }
  }

  /// Mean loss of the batch: cross-entropy (classification, masked LM over the labelled
  /// positions; 0 when none is labelled) or mean squared error (regression).
  /// @throws invalid_argument for an invalid batch (validate(Batch, Config)).
  T forward(const Batch& batch) {
    validate(batch, cfg_);
    const Index L = batch.seq_len(), B = batch.batch_size(), N = L * B, d = cfg_.d_model;
    L_ = L;
    B_ = B;
    len_.resize(std::size_t(B));
    for (Index b = 0; b < B; ++b) len_[std::size_t(b)] = batch.length(b);
    tokens_ = batch.tokens;
    segments_ = batch.segments;

    X_.resize(d, N);
    for (Index b = 0; b < B; ++b)
      for (Index i = 0; i < L; ++i) {
        const Index t = b * L + i;
        X_.col(t) = tok_.col(batch.tokens(i, b)) + pos_.col(i);
        if (cfg_.n_segments > 0) X_.col(t) += seg_.col(segment(i, b));
      }
    for (Block<T>& blk : blocks_) {
      blk.ln1.forward(X_, blk.h1);
      blk.q.forward(blk.h1, blk.Q);
      blk.k.forward(blk.h1, blk.K);
      blk.v.forward(blk.h1, blk.V);
      blk.attn.forward(blk.Q, blk.K, blk.V, L, len_, cfg_.n_heads, blk.ctx);
      blk.o.forward(blk.ctx, tmp_);
      X_ += tmp_;
      blk.ln2.forward(X_, blk.h2);
      blk.up.forward(blk.h2, blk.U);
      Gelu<T>::forward(blk.U, blk.tanh_u, blk.act);
      blk.down.forward(blk.act, tmp_);
      X_ += tmp_;
    }
    final_ln_.forward(X_, H_);
    has_forward_ = true;
    return cfg_.head == Head::sequence ? sequence_head_forward(batch) : mlm_head_forward(batch);
  }

  /// Gradients of the loss of the last forward() (overwritten, not accumulated).
  /// @throws scalora::error if no forward() ran before.
  void backward() {
    if (!has_forward_) throw error("[scalora.model.no_forward] backward() needs a forward() first");
    const Index d = cfg_.d_model, N = L_ * B_;
    dH_.setZero(d, N);
    if (cfg_.head == Head::sequence) {
      head_.backward(pooled_, dlogits_, &dpooled_);
      for (Index b = 0; b < B_; ++b) dH_.col(b * L_) = dpooled_.col(b);
    } else {
      grad_mlm_bias_.noalias() = dlogits_.rowwise().sum();
      dpooled_.noalias() = tok_ * dlogits_;  // d x M
      for (std::size_t m = 0; m < mlm_pos_.size(); ++m) dH_.col(mlm_pos_[m]) = dpooled_.col(Index(m));
    }
    final_ln_.backward(dH_, dX_, false);
    for (auto it = blocks_.rbegin(); it != blocks_.rend(); ++it) {
      Block<T>& blk = *it;
      blk.down.backward(blk.act, dX_, &dff_);
      Gelu<T>::backward(blk.U, blk.tanh_u, dff_, dff_);
      blk.up.backward(blk.h2, dff_, &dh_);
      blk.ln2.backward(dh_, dX_, true);
      blk.o.backward(blk.ctx, dX_, &dctx_);
      blk.attn.backward(blk.Q, blk.K, blk.V, L_, len_, cfg_.n_heads, dctx_, dQ_, dK_, dV_);
      blk.q.backward(blk.h1, dQ_, &dh_, false);
      blk.k.backward(blk.h1, dK_, &dh_, true);
      blk.v.backward(blk.h1, dV_, &dh_, true);
      blk.ln1.backward(dh_, dX_, true);
    }
    if (cfg_.mode == Mode::full) {
      if (cfg_.head == Head::masked_lm) {
        grad_tok_.noalias() = mlm_hidden_ * dlogits_.transpose();  // tied decoder: d x V
      } else {
        grad_tok_.setZero();
      }
      grad_pos_.setZero();
      grad_seg_.setZero();
      for (Index b = 0; b < B_; ++b)
        for (Index i = 0; i < L_; ++i) {
          const Index t = b * L_ + i;
          grad_tok_.col(tokens_(i, b)) += dX_.col(t);
          grad_pos_.col(i) += dX_.col(t);
          if (cfg_.n_segments > 0) grad_seg_.col(segment(i, b)) += dX_.col(t);
        }
    }
  }

  T forward_backward(const Batch& batch) {
    const T loss = forward(batch);
    backward();
    return loss;
  }

  /// Outputs of the last forward. Head::sequence: n_classes x B (regression: 1 x B).
  /// Head::masked_lm: V x M, column m for the m-th labelled position in column-major order.
  const Matrix<T>& logits() const { return logits_; }
  /// Final layer-norm output of the last forward, d x N.
  const Matrix<T>& hidden() const { return H_; }

  /// Trainable tensors in a stable order (docs/model.md, "Names"); views into the model.
  std::vector<Param<T>> parameters() {
    std::vector<Param<T>> out;
    if (cfg_.mode == Mode::full) {
      out.push_back({"embed.token", view(tok_), view(grad_tok_), true, false});
      out.push_back({"embed.position", view(pos_), view(grad_pos_), true, false});
      if (cfg_.n_segments > 0) out.push_back({"embed.segment", view(seg_), view(grad_seg_), true, false});
    }
    for_each_module([&](auto& module) { module.append_parameters(out); });
    if (cfg_.head == Head::masked_lm) out.push_back({"head.mlm_bias", view(mlm_bias_), view(grad_mlm_bias_), false, true});
    return out;
  }

  /// Every stored tensor (trainable or frozen) by stable name, in the same order as parameters().
  std::vector<NamedTensor<T>> tensors() {
    std::vector<NamedTensor<T>> out;
    out.push_back({"embed.token", view(tok_), false});
    out.push_back({"embed.position", view(pos_), false});
    if (cfg_.n_segments > 0) out.push_back({"embed.segment", view(seg_), false});
    for_each_module([&](auto& module) { module.append_tensors(out); });
    if (cfg_.head == Head::masked_lm) out.push_back({"head.mlm_bias", view(mlm_bias_), true});
    return out;
  }
  /// The model has no integer state (checkpoint interface shared with the optimizers).
  std::vector<NamedCounter> counters() { return {}; }

  /// The linear layers carrying LoRA, in block order q, k, v, o, mlp.up, mlp.down.
  std::vector<Linear<T>*> adapted_linears() {
    std::vector<Linear<T>*> out;
    for (Block<T>& blk : blocks_)
      for (Linear<T>* l : {&blk.q, &blk.k, &blk.v, &blk.o, &blk.up, &blk.down})
        if (l->adapted()) out.push_back(l);
    return out;
  }

 private:
  /// Calls f on every layer norm and linear layer in the stable order of the names:
  /// per block ln1, q, k, v, o, ln2, mlp.up, mlp.down; then final_ln and the sequence head.
  template <class F>
  void for_each_module(F&& f) {
    for (Block<T>& blk : blocks_) {
      f(blk.ln1);
      for (Linear<T>* l : {&blk.q, &blk.k, &blk.v, &blk.o}) f(*l);
      f(blk.ln2);
      f(blk.up);
      f(blk.down);
    }
    f(final_ln_);
    if (cfg_.head == Head::sequence) f(head_);
  }

  Matrix<T> init_gaussian(const std::string& name, Index rows, Index cols, std::uint64_t seed) const {
    return (T(cfg_.init_std) * gaussian_matrix(rows, cols, detail::tensor_seed(seed, name)).template cast<T>()).eval();
  }

  /// W ~ N(0, init_std^2), b = 0; adapted: B ~ N(0, 1/(3n)) (the variance of PEFT's
  /// kaiming_uniform(a = sqrt 5) = U(-1/sqrt n, 1/sqrt n)), A = 0, so W_eff = W_pt.
  Linear<T> make_linear(const std::string& name, Index m, Index n, Target t, std::uint64_t seed) const {
    using std::sqrt;
    const bool lora = cfg_.adapts(t);
    Linear<T> l(name, m, n, lora ? cfg_.lora_rank : 0, T(cfg_.lora_scale()));
    l.W = init_gaussian(name + ".weight", m, n, seed);
    if (lora) {
      l.B = (gaussian_matrix(n, cfg_.lora_rank, detail::tensor_seed(seed, name + ".lora_B")).template cast<T>() /
             sqrt(T(3 * n)))
                .eval();
    }
    l.weight_trainable = cfg_.mode == Mode::full;
    l.prepare_gradients();
    return l;
  }

  Index segment(Index i, Index b) const { return segments_.size() == 0 ? 0 : Index(segments_(i, b)); }

  T sequence_head_forward(const Batch& batch) {
    using std::exp;
    using std::log;
    const Index d = cfg_.d_model, C = cfg_.n_classes;
    pooled_.resize(d, B_);
    for (Index b = 0; b < B_; ++b) pooled_.col(b) = H_.col(b * L_);  // [CLS]
    head_.forward(pooled_, logits_);
    dlogits_.resize(C, B_);
    T loss = T(0);
    const T inv_b = T(1) / T(B_);
    if (C == 1) {
      for (Index b = 0; b < B_; ++b) {
        const T r = logits_(0, b) - T(batch.targets[std::size_t(b)]);
        loss += r * r;
        dlogits_(0, b) = T(2) * r * inv_b;
      }
    } else {
      for (Index b = 0; b < B_; ++b)
        loss += softmax_xent(logits_.col(b), batch.labels[std::size_t(b)], inv_b, dlogits_.col(b));
    }
    return loss * inv_b;
  }

  T mlm_head_forward(const Batch& batch) {
    const Index d = cfg_.d_model, V = cfg_.vocab_size;
    mlm_pos_.clear();
    mlm_label_.clear();
    for (Index b = 0; b < B_; ++b)
      for (Index i = 0; i < L_; ++i)
        if (batch.mlm_labels(i, b) != ignore_label) {
          mlm_pos_.push_back(b * L_ + i);
          mlm_label_.push_back(batch.mlm_labels(i, b));
        }
    const Index M = Index(mlm_pos_.size());
    mlm_hidden_.resize(d, M);
    for (Index m = 0; m < M; ++m) mlm_hidden_.col(m) = H_.col(mlm_pos_[std::size_t(m)]);
    logits_.resize(V, M);
    logits_.noalias() = tok_.transpose() * mlm_hidden_;  // tied decoder E^T h
    logits_.colwise() += mlm_bias_;
    dlogits_.resize(V, M);
    if (M == 0) return T(0);
    T loss = T(0);
    const T inv_m = T(1) / T(M);
    for (Index m = 0; m < M; ++m)
      loss += softmax_xent(logits_.col(m), mlm_label_[std::size_t(m)], inv_m, dlogits_.col(m));
    return loss * inv_m;
  }

  /// -log softmax(z)_y; writes (softmax(z) - e_y) * weight into dz.
  template <class Z, class DZ>
  static T softmax_xent(const Z& z, Index y, const T& weight, DZ&& dz) {
    using std::exp;
    using std::log;
    const T mx = z.maxCoeff();
    dz = (z.array() - mx).exp().matrix();
    const T sum = dz.sum();
    const T loss = log(sum) + mx - z(y);
    dz *= weight / sum;
    dz(y) -= weight;
    return loss;
  }

  Config cfg_;
  Matrix<T> tok_, pos_, seg_;                 // d x V, d x L_max, d x n_segments
  Matrix<T> grad_tok_, grad_pos_, grad_seg_;  // Mode::full only
  std::vector<Block<T>> blocks_;
  LayerNorm<T> final_ln_;
  Linear<T> head_;                            // Head::sequence
  Vector<T> mlm_bias_, grad_mlm_bias_;        // Head::masked_lm

  // State of the last forward.
  bool has_forward_ = false;
  Index L_ = 0, B_ = 0;
  std::vector<Index> len_;
  IdMatrix tokens_, segments_;
  Matrix<T> X_, H_, tmp_, pooled_, logits_, dlogits_, mlm_hidden_;
  std::vector<Index> mlm_pos_;
  std::vector<Index> mlm_label_;
  // Backward scratch.
  Matrix<T> dH_, dX_, dh_, dctx_, dQ_, dK_, dV_, dff_, dpooled_;
};

}  // namespace scalora::model
