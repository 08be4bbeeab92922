#include <gtest/gtest.h>

#include "util/error.hpp"

TEST(Error, FormatsItsMessage) {
    try {
        ovllm::throw_error("{}: field '{}' must be {}", "config.json", "hidden_size", "an integer");
        FAIL() << "throw_error returned";
    } catch (const ovllm::Error& e) {
        EXPECT_STREQ(e.what(), "config.json: field 'hidden_size' must be an integer");
    }
}
