// The small file and text helpers of the per-run cgroups (cgroup.cpp): reading and writing
// cgroup files, mountinfo's escapes, killing a cgroup's members. Private to sim/sandbox.
#pragma once

#include "sim/sandbox/cgroup.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace forklore::cgroup_files {

std::vector<std::string_view> split(std::string_view text, char separator);
std::string unescape_mountinfo(std::string_view text);
std::int64_t now_ms();
bool read_small_file(const std::string& path, std::string& out);
bool write_cgroup_file(const std::string& path, const std::string& text);
bool exists(const std::string& path);
std::optional<std::uint64_t> read_number(const std::string& path);
std::optional<std::uint64_t> read_keyed(const std::string& path, std::string_view key);
std::vector<pid_t> read_procs(const std::string& directory);
std::string directory_in(const CgroupMount& mount, const std::string& self_path);
std::string human_bytes(std::uint64_t bytes);
bool remove_directory(const std::string& directory);
void kill_members_until_empty(const std::string& directory, std::int64_t deadline_ms,
                              std::set<pid_t>* seen);
std::string system_file(const char* path);

} // namespace forklore::cgroup_files
