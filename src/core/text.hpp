// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace fieldfs {

/// `text` on one line, whatever the paths it quotes hold: a newline as \n, a tab as \t, any other
/// control character as \xHH. Every one-line message of fieldfs and fieldfs-header goes through it.
std::string one_line(std::string_view text);

}  // namespace fieldfs
