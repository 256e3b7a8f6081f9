// The programs of the Python scenarios, embedded at build time from scenarios/python/*.py (by
// scenarios/embed_python_scripts.cmake): the host writes one into the sandbox's working
// directory and runs it, so a run needs no file from the source tree.
#pragma once

#include <string>
#include <string_view>

namespace forklore::python {

// Where the script is in the source tree, as Scenario::sources names it.
inline std::string script_path(std::string_view name) {
    return "scenarios/python/" + std::string(name);
}

// The text of scenarios/python/<name> ("printer_thread.py"); empty when there is no such file.
std::string_view embedded_script(std::string_view name);

} // namespace forklore::python
