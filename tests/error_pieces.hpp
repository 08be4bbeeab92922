#pragma once
// Asserts that a call throws ovllm::Error whose message names every expected piece (the
// file, the field, the limit...).
#include <initializer_list>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/error.hpp"

namespace ovllm::test {

template <typename Fn>
void expect_error(Fn&& fn, std::initializer_list<std::string> pieces) {
    try {
        fn();
        FAIL() << "no error thrown";
    } catch (const Error& e) {
        for (const auto& piece : pieces) EXPECT_THAT(e.what(), ::testing::HasSubstr(piece));
    }
}

}  // namespace ovllm::test
