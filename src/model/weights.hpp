#pragma once
// Where a graph builder gets its weights from. Builders ask by HF tensor name and the
// shape they expect; the source returns an f32-valued graph output: a Constant over the
// stored data (zero-copy for mmap'ed files), followed by a Convert or a decompression
// subgraph when the storage type is not f32. Quantizing sources wrap another source.
#include <memory>
#include <string>

#include <openvino/core/node_output.hpp>
#include <openvino/core/shape.hpp>

namespace ovllm::model {

// How a weight is used decides whether it may be compressed.
enum class WeightUse {
    matmul,             // [out, in] projection weight (nn.Linear layout)
    matmul_transposed,  // stored [in, out] (GPT-2 Conv1D); get() still returns [out, in]
    embedding,          // [vocab, hidden] gathered by token id
    other,              // norms, biases, position tables: never compressed
};

class WeightSource {
  public:
    virtual ~WeightSource() = default;
    virtual bool contains(const std::string& name) const = 0;
    // Throws ovllm::Error naming the file and tensor when it is missing, or when its stored
    // shape differs from `expected_shape`.
    virtual ov::Output<ov::Node> get(const std::string& name, const ov::Shape& expected_shape,
                                     WeightUse use) = 0;
    // For messages: the file or folder the weights come from.
    virtual std::string describe() const = 0;
};

}  // namespace ovllm::model
