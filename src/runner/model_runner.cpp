#include "runner/model_runner.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>

#include <openvino/runtime/core.hpp>
#include <openvino/runtime/intel_cpu/properties.hpp>
#include <openvino/runtime/properties.hpp>

#include "model/paged.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace ovllm::runner {
namespace {

ov::Core& core() {
    static ov::Core instance;
    return instance;
}

ov::Shape block_shape(const ov::Output<const ov::Node>& input) {
    const ov::PartialShape& shape = input.get_partial_shape();
    if (shape.rank().is_dynamic() || shape.rank().get_length() != 4) {
        throw_error("compiled input '{}' is not a 4-D KV-cache tensor", input.get_any_name());
    }
    ov::Shape dims;
    for (int64_t i = 1; i < 4; ++i) {
        if (shape[i].is_dynamic()) {
            throw_error("compiled input '{}' has a dynamic dimension {} ({})", input.get_any_name(),
                        i, shape.to_string());
        }
        dims.push_back(static_cast<size_t>(shape[i].get_length()));
    }
    return dims;
}

size_t bits_of(const ov::element::Type& type, const ov::Shape& dims) {
    return ov::shape_size(dims) * type.bitwidth();
}

// Per layer index: the compiled key_cache.N / value_cache.N inputs.
KvCacheLayout read_layout(const ov::CompiledModel& compiled) {
    std::map<int, KvCacheLayout::Layer> layers;
    for (const auto& input : compiled.inputs()) {
        for (const std::string& name : input.get_names()) {
            const bool is_key = name.rfind("key_cache.", 0) == 0;
            const bool is_value = name.rfind("value_cache.", 0) == 0;
            if (!is_key && !is_value) continue;
            const int index = std::stoi(name.substr(name.find('.') + 1));
            KvCacheLayout::Layer& layer = layers[index];
            if (is_key) {
                layer.key_type = input.get_element_type();
                layer.key_block_shape = block_shape(input);
            } else {
                layer.value_type = input.get_element_type();
                layer.value_block_shape = block_shape(input);
            }
        }
    }
    if (layers.empty()) throw_error("compiled model has no key_cache.N inputs");
    KvCacheLayout layout;
    size_t bits = 0;
    for (const auto& [index, layer] : layers) {
        if (index != static_cast<int>(layout.layers.size()) || layer.key_block_shape.empty() ||
            layer.value_block_shape.empty()) {
            throw_error("compiled model's KV-cache inputs are incomplete at layer {}", index);
        }
        bits += bits_of(layer.key_type, layer.key_block_shape) +
                bits_of(layer.value_type, layer.value_block_shape);
        layout.layers.push_back(layer);
    }
    // Values hold one row per token in every precision (keys may carry extra scale rows).
    layout.block_size = static_cast<int>(layout.layers.front().value_block_shape[1]);
    layout.bytes_per_block = (bits + 7) / 8;
    return layout;
}

template <typename T>
T* resized(ov::InferRequest& request, const char* name, size_t count) {
    ov::Tensor tensor = request.get_tensor(name);
    tensor.set_shape(ov::Shape{count});
    return tensor.data<T>();
}

}  // namespace

ov::AnyMap compile_properties(const RunnerOptions& options) {
    ov::element::Type inference = options.inference_precision;
    if (options.kv_cache_precision == ov::element::f32) inference = ov::element::f32;
    ov::AnyMap props{{ov::hint::inference_precision.name(), inference},
                     {ov::hint::kv_cache_precision.name(), options.kv_cache_precision}};
    if (inference == ov::element::f32 && options.kv_cache_precision == ov::element::f32) {
        // Exact mode: no on-the-fly activation quantization for compressed weights.
        props[ov::hint::dynamic_quantization_group_size.name()] = uint64_t{0};
    }
    if (options.num_threads > 0) props[ov::inference_num_threads.name()] = options.num_threads;
    if (options.profile_ops) props[ov::enable_profiling.name()] = true;
    for (const auto& [key, value] : options.properties) props[key] = value;
    return props;
}

ModelRunner::ModelRunner(std::shared_ptr<ov::Model> paged_or_stateful, RunnerOptions options)
    : options_(std::move(options)) {
    std::shared_ptr<ov::Model> paged = model::is_paged_model(*paged_or_stateful)
                                           ? paged_or_stateful
                                           : model::make_paged_model(paged_or_stateful);
    bool has_indices = false;
    for (const auto& input : paged->inputs()) {
        has_indices = has_indices || input.get_names().count(model::kSampledTokensIndices) > 0;
    }
    if (!has_indices) {
        throw_error("paged model '{}' has no '{}' input", paged->get_friendly_name(),
                    model::kSampledTokensIndices);
    }
    if (options_.kv_cache_precision == ov::element::f32 &&
        options_.inference_precision != ov::element::f32) {
        OVLLM_WARN(
            "f32 KV cache requested: using f32 inference precision (the CPU plugin "
            "cannot combine an f32 cache with {} compute)",
            options_.inference_precision.get_type_name());
    }
    compiled_ = core().compile_model(paged, "CPU", compile_properties(options_));
    layout_ = read_layout(compiled_);

    num_blocks_ = options_.num_kv_blocks;
    if (num_blocks_ == 0) {
        const size_t bytes =
            options_.kv_cache_bytes ? options_.kv_cache_bytes : kDefaultKvCacheBytes;
        num_blocks_ = bytes / layout_.bytes_per_block;
    }
    if (num_blocks_ == 0) {
        throw_error("KV-cache space of {} bytes holds no block ({} bytes per block)",
                    options_.kv_cache_bytes, layout_.bytes_per_block);
    }

    request_ = compiled_.create_infer_request();
    for (size_t i = 0; i < layout_.layers.size(); ++i) {
        const KvCacheLayout::Layer& layer = layout_.layers[i];
        ov::Shape key_shape{num_blocks_};
        key_shape.insert(key_shape.end(), layer.key_block_shape.begin(),
                         layer.key_block_shape.end());
        ov::Shape value_shape{num_blocks_};
        value_shape.insert(value_shape.end(), layer.value_block_shape.begin(),
                           layer.value_block_shape.end());
        kv_tensors_.emplace_back(layer.key_type, key_shape);
        request_.set_tensor("key_cache." + std::to_string(i), kv_tensors_.back());
        kv_tensors_.emplace_back(layer.value_type, value_shape);
        request_.set_tensor("value_cache." + std::to_string(i), kv_tensors_.back());
    }
}

void ModelRunner::fill_inputs(const ModelInput& input) {
    const size_t batch = input.sequences.size();
    if (batch == 0) throw_error("model step with no sequences");
    size_t tokens = 0;
    size_t blocks = 0;
    size_t sampled = 0;
    size_t extra = 0;
    const auto block_size = static_cast<size_t>(layout_.block_size);
    for (size_t s = 0; s < batch; ++s) {
        const SequenceInput& seq = input.sequences[s];
        if (seq.token_ids.empty()) throw_error("sequence {} of the step has no new tokens", s);
        if (seq.past_len < 0) throw_error("sequence {}: negative past_len {}", s, seq.past_len);
        const size_t context = static_cast<size_t>(seq.past_len) + seq.token_ids.size();
        if (seq.block_table.size() * block_size < context) {
            throw_error("sequence {}: {} blocks of {} tokens cannot hold {} tokens", s,
                        seq.block_table.size(), block_size, context);
        }
        for (const int32_t id : seq.block_table) {
            if (id < 0 || static_cast<size_t>(id) >= num_blocks_) {
                throw_error("sequence {}: block id {} outside [0, {})", s, id, num_blocks_);
            }
        }
        if (seq.extra_logits_begin + seq.extra_logits_count > seq.token_ids.size()) {
            throw_error("sequence {}: extra logits [{}, {}) outside its {} new tokens", s,
                        seq.extra_logits_begin, seq.extra_logits_begin + seq.extra_logits_count,
                        seq.token_ids.size());
        }
        tokens += seq.token_ids.size();
        blocks += seq.block_table.size();
        sampled += seq.sample ? 1 : 0;
        extra += seq.extra_logits_count;
    }

    auto* ids = resized<int64_t>(request_, "input_ids", tokens);
    auto* positions = resized<int64_t>(request_, "position_ids", tokens);
    auto* past_lens = resized<int32_t>(request_, "past_lens", batch);
    auto* begins = resized<int32_t>(request_, "subsequence_begins", batch + 1);
    auto* block_ids = resized<int32_t>(request_, "block_indices", blocks);
    auto* block_begins = resized<int32_t>(request_, "block_indices_begins", batch + 1);
    // The sampled rows first, so the sampler reads [sampled, vocab] from the start.
    auto* rows = resized<int64_t>(request_, model::kSampledTokensIndices, sampled + extra);
    int64_t* extra_rows = rows + sampled;

    int64_t token = 0;
    int32_t block = 0;
    int32_t max_context = 0;
    size_t row = 0;
    begins[0] = 0;
    block_begins[0] = 0;
    for (size_t s = 0; s < batch; ++s) {
        const SequenceInput& seq = input.sequences[s];
        for (size_t i = 0; i < seq.token_ids.size(); ++i, ++token) {
            ids[token] = seq.token_ids[i];
            positions[token] = seq.past_len + static_cast<int64_t>(i);
        }
        std::copy(seq.block_table.begin(), seq.block_table.end(), block_ids + block);
        block += static_cast<int32_t>(seq.block_table.size());
        past_lens[s] = static_cast<int32_t>(seq.past_len);
        begins[s + 1] = static_cast<int32_t>(token);
        block_begins[s + 1] = block;
        max_context =
            std::max(max_context, static_cast<int32_t>(seq.past_len + std::ssize(seq.token_ids)));
        if (seq.sample) rows[row++] = token - 1;
        const int64_t first = begins[s] + static_cast<int64_t>(seq.extra_logits_begin);
        for (size_t i = 0; i < seq.extra_logits_count; ++i) {
            *extra_rows++ = first + static_cast<int64_t>(i);
        }
    }
    num_sampled_ = sampled;
    ov::Tensor max_len = request_.get_tensor("max_context_len");
    max_len.data<int32_t>()[0] = max_context;
}

std::vector<OpTime> ModelRunner::op_times() const {
    std::vector<OpTime> times;
    for (const auto& [type, op] : op_times_) {
        times.push_back(op);
        times.back().type = type;
    }
    std::sort(times.begin(), times.end(),
              [](const OpTime& a, const OpTime& b) { return a.seconds > b.seconds; });
    return times;
}

LogitsView ModelRunner::run(const ModelInput& input) {
    fill_inputs(input);
    request_.infer();
    if (options_.profile_ops) {
        for (const ov::ProfilingInfo& node : request_.get_profiling_info()) {
            if (node.status != ov::ProfilingInfo::Status::EXECUTED) continue;
            OpTime& op = op_times_[node.node_type];
            op.seconds += std::chrono::duration<double>(node.real_time).count();
            ++op.executions;
            kernels_[node.node_type].insert(node.exec_type);
        }
    }
    ov::Tensor logits = request_.get_tensor("logits");
    const ov::Shape& shape = logits.get_shape();  // [S, 1, vocab]
    LogitsView view;
    view.vocab = shape.back();
    view.rows = num_sampled_;
    view.extra_rows = shape.front() - num_sampled_;
    if (logits.get_element_type() == ov::element::f32) {
        view.data = logits.data<float>();
        return view;
    }
    converted_logits_.resize(logits.get_size());
    if (logits.get_element_type() == ov::element::bf16) {
        std::copy_n(logits.data<const ov::bfloat16>(), logits.get_size(),
                    converted_logits_.begin());
    } else if (logits.get_element_type() == ov::element::f16) {
        std::copy_n(logits.data<const ov::float16>(), logits.get_size(), converted_logits_.begin());
    } else {
        throw_error("logits of type {} are not supported",
                    logits.get_element_type().get_type_name());
    }
    view.data = converted_logits_.data();
    return view;
}

}  // namespace ovllm::runner
