// Checks of the exports' formats, shared by the unit, engine and CLI tests: whether a text is
// well-formed XML (a small checker, so a unit test needs no parser), and whether a Chrome trace
// keeps the rules of the trace event format that the viewers depend on.
#pragma once

#include "sim/export/xml_text.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace forklore::test {

// The first reason `xml` is not a well-formed XML 1.0 document, or "" when it is: valid UTF-8
// with no forbidden control character; an optional prolog; one root element; every tag closed
// in order; attributes quoted, unique, without '<'; '&' only in a known entity or a character
// reference; no '<' in text. (Enough for what the exports write: no DOCTYPE, no CDATA.)
inline std::string xml_problem(std::string_view xml) {
    if (valid_utf8(xml) != xml)
        return "not valid UTF-8";
    for (char c : xml)
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return "a control character";
    std::size_t at = 0;
    auto starts = [&](std::string_view what) { return xml.substr(at, what.size()) == what; };
    auto name_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':' || c == '-' ||
               c == '.';
    };
    auto read_name = [&]() {
        const std::size_t begin = at;
        while (at < xml.size() && name_char(xml[at]))
            ++at;
        return std::string(xml.substr(begin, at - begin));
    };
    auto skip_space = [&] {
        while (at < xml.size() && std::isspace(static_cast<unsigned char>(xml[at])))
            ++at;
    };
    auto entities_ok = [](std::string_view text) {
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] != '&')
                continue;
            const std::size_t end = text.find(';', i);
            if (end == std::string_view::npos)
                return false;
            const std::string_view entity = text.substr(i + 1, end - i - 1);
            const bool named = entity == "amp" || entity == "lt" || entity == "gt" ||
                               entity == "quot" || entity == "apos";
            const bool decimal = entity.size() > 1 && entity[0] == '#' &&
                                 std::all_of(entity.begin() + 1, entity.end(), ::isdigit);
            const bool hex = entity.size() > 2 && entity.substr(0, 2) == "#x" &&
                             std::all_of(entity.begin() + 2, entity.end(), ::isxdigit);
            if (!named && !decimal && !hex)
                return false;
        }
        return true;
    };
    std::vector<std::string> open;
    int roots = 0;
    while (at < xml.size()) {
        if (starts("<?")) {
            const std::size_t end = xml.find("?>", at);
            if (end == std::string_view::npos)
                return "an unclosed processing instruction";
            at = end + 2;
        } else if (starts("<!--")) {
            const std::size_t end = xml.find("-->", at);
            if (end == std::string_view::npos)
                return "an unclosed comment";
            at = end + 3;
        } else if (starts("</")) {
            at += 2;
            const std::string name = read_name();
            skip_space();
            if (open.empty() || open.back() != name || at >= xml.size() || xml[at] != '>')
                return "a closing tag that closes nothing open: " + name;
            open.pop_back();
            ++at;
        } else if (starts("<")) {
            ++at;
            const std::string name = read_name();
            if (name.empty())
                return "a '<' that starts no tag";
            if (open.empty() && ++roots > 1)
                return "a second root element";
            std::set<std::string> attributes;
            for (;;) {
                const bool spaced =
                    at < xml.size() && std::isspace(static_cast<unsigned char>(xml[at]));
                skip_space();
                if (starts("/>")) {
                    at += 2;
                    break;
                }
                if (starts(">")) {
                    ++at;
                    open.push_back(name);
                    break;
                }
                const std::string attribute = read_name();
                if (attribute.empty() || !spaced || !attributes.insert(attribute).second)
                    return "a bad or repeated attribute in <" + name + ">";
                if (!starts("=\"") && !starts("='"))
                    return "an unquoted attribute: " + attribute;
                const char quote = xml[at + 1];
                at += 2;
                const std::size_t end = xml.find(quote, at);
                if (end == std::string_view::npos)
                    return "an unclosed attribute value";
                const std::string_view value = xml.substr(at, end - at);
                if (value.find('<') != std::string_view::npos || !entities_ok(value))
                    return "a '<' or a bad '&' in attribute " + attribute;
                at = end + 1;
            }
        } else {
            const std::size_t end = std::min(xml.find('<', at), xml.size());
            const std::string_view text = xml.substr(at, end - at);
            if (!entities_ok(text))
                return "a bad '&' in text";
            if (open.empty() && text.find_first_not_of(" \t\r\n") != std::string_view::npos)
                return "text outside the root element";
            at = end;
        }
    }
    if (!open.empty())
        return "an element left open: " + open.back();
    return roots == 1 ? "" : "no root element";
}

// How many times `needle` occurs in `text`.
inline std::size_t occurrences(std::string_view text, std::string_view needle) {
    std::size_t count = 0;
    for (std::size_t at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + needle.size()))
        ++count;
    return count;
}

// What a Chrome trace must keep for Perfetto and chrome://tracing to show it as meant:
// - traceEvents is an array, displayTimeUnit "ms";
// - every pid and (pid, tid) an event uses has process_name and thread_name metadata;
// - complete slices ("X") have a name, a cat and a dur of at least 0, and on each thread they
//   nest (none crosses the end of one it starts inside);
// - async slices ("b"/"e") come in pairs of the same id, name and cat;
// - every flow id has exactly one "s" and one "f" (with "bp":"e"), the same name and cat, each
//   at the same pid, tid, ts and cat as a complete slice it binds to.
// Returns the flows' (start pid, finish pid) by id.
inline std::map<std::uint64_t, std::pair<int, int>>
check_chrome_trace(const nlohmann::json& trace) {
    using nlohmann::json;
    REQUIRE(trace.is_object());
    REQUIRE(trace.contains("traceEvents"));
    REQUIRE(trace["traceEvents"].is_array());
    CHECK(trace.value("displayTimeUnit", "") == "ms");
    std::set<int> named_processes;
    std::set<std::pair<int, int>> named_threads;
    for (const json& event : trace["traceEvents"])
        if (event.at("ph") == "M" && event.at("name") == "process_name")
            named_processes.insert(event.at("pid").get<int>());
        else if (event.at("ph") == "M" && event.at("name") == "thread_name")
            named_threads.insert({event.at("pid").get<int>(), event.at("tid").get<int>()});
    std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> slices;
    std::set<std::tuple<int, int, double, std::string>> slice_starts;
    std::map<std::uint64_t, std::vector<json>> flows, asyncs;
    for (const json& event : trace["traceEvents"]) {
        const std::string ph = event.at("ph");
        if (ph == "M")
            continue;
        const int pid = event.at("pid"), tid = event.at("tid");
        INFO(event.dump());
        CHECK(named_processes.count(pid) == 1);
        CHECK(named_threads.count({pid, tid}) == 1);
        CHECK(event.at("ts").get<double>() >= 0);
        if (ph == "X") {
            CHECK(!event.at("name").get<std::string>().empty());
            CHECK(!event.at("cat").get<std::string>().empty());
            CHECK(event.at("dur").get<double>() >= 0);
            const double ts = event.at("ts");
            slices[{pid, tid}].push_back({ts, ts + event.at("dur").get<double>()});
            slice_starts.insert({pid, tid, ts, event.at("cat").get<std::string>()});
        } else if (ph == "s" || ph == "f") {
            flows[event.at("id").get<std::uint64_t>()].push_back(event);
        } else if (ph == "b" || ph == "e") {
            asyncs[event.at("id").get<std::uint64_t>()].push_back(event);
        } else {
            CHECK(ph == "i");
        }
    }
    for (auto& [thread, spans] : slices) {
        std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) {
            return a.first != b.first ? a.first < b.first : a.second > b.second;
        });
        // ts + dur in microseconds can exceed the parent's end by a rounding error where both
        // end at the same nanosecond (a viewer turns ts and dur into nanoseconds apart).
        constexpr double kHalfNanosecond = 0.0005;
        std::vector<double> ends;
        for (const auto& [start, end] : spans) {
            while (!ends.empty() && ends.back() <= start + kHalfNanosecond)
                ends.pop_back();
            INFO("thread " << thread.first << "/" << thread.second << " slice " << start << ".."
                           << end);
            CHECK((ends.empty() || end <= ends.back() + kHalfNanosecond));
            ends.push_back(end);
        }
    }
    for (const auto& [id, pair] : asyncs) {
        REQUIRE(pair.size() == 2);
        CHECK(pair[0].at("ph") == "b");
        CHECK(pair[1].at("ph") == "e");
        CHECK(pair[0].at("name") == pair[1].at("name"));
        CHECK(pair[0].at("cat") == pair[1].at("cat"));
        CHECK(pair[0].at("ts").get<double>() <= pair[1].at("ts").get<double>());
    }
    std::map<std::uint64_t, std::pair<int, int>> ends_of_flows;
    for (const auto& [id, pair] : flows) {
        INFO("flow " << id);
        REQUIRE(pair.size() == 2);
        const json& start = pair[0].at("ph") == "s" ? pair[0] : pair[1];
        const json& finish = pair[0].at("ph") == "s" ? pair[1] : pair[0];
        CHECK(start.at("ph") == "s");
        CHECK(finish.at("ph") == "f");
        CHECK(finish.value("bp", "") == "e");
        CHECK(start.at("name") == finish.at("name"));
        CHECK(start.at("cat") == finish.at("cat"));
        for (const json* end : {&start, &finish})
            CHECK(slice_starts.count(
                      {end->at("pid"), end->at("tid"), end->at("ts"), end->at("cat")}) == 1);
        ends_of_flows[id] = {start.at("pid"), finish.at("pid")};
    }
    return ends_of_flows;
}

} // namespace forklore::test
