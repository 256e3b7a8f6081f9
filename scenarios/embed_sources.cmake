# Embeds the corpus's source files (scenarios/*.cpp, support/*.hpp, python/*.py, programs/*.c and
# the engine's self-tests, tests/selftests/*.cpp) in a C++ source file, as raw string literals
# registered with the scenario registry by their path relative to the source tree
# ("scenarios/010_file_read_under_lock.cpp"), so the GUI shows the code a run ran without reading
# a source tree at run time (a student's copy of the program may have none).
#   cmake -DSOURCE_ROOT=<the project's source dir> -DOUTPUT=<scenario_sources.cpp>
#         -P embed_sources.cmake
# The output is rewritten only when its text changes, so an unchanged corpus rebuilds nothing.
file(GLOB sources RELATIVE "${SOURCE_ROOT}"
     "${SOURCE_ROOT}/scenarios/*.cpp" "${SOURCE_ROOT}/scenarios/support/*.hpp"
     "${SOURCE_ROOT}/scenarios/python/*.py" "${SOURCE_ROOT}/scenarios/programs/*.c"
     "${SOURCE_ROOT}/tests/selftests/*.cpp")
list(SORT sources)
set(delimiter "forklore_src")
set(text "// Generated from scenarios/ by scenarios/embed_sources.cmake. Do not edit.\n")
string(APPEND text "#include \"sim/scenario/scenario.hpp\"\n\n")
string(APPEND text "namespace {\n\nstruct EmbeddedSources {\n    EmbeddedSources() {\n")
string(APPEND text "        auto& registry = forklore::ScenarioRegistry::instance();\n")
foreach(source IN LISTS sources)
    file(READ "${SOURCE_ROOT}/${source}" body)
    string(FIND "${body}" ")${delimiter}\"" clash)
    if(NOT clash EQUAL -1)
        message(FATAL_ERROR "${source} contains the raw string delimiter )${delimiter}\"")
    endif()
    string(APPEND text "        registry.add_source(\"${source}\", R\"${delimiter}(${body})${delimiter}\");\n")
endforeach()
string(APPEND text "    }\n};\n\nconst EmbeddedSources kEmbeddedSources;\n\n} // namespace\n")
file(WRITE "${OUTPUT}.new" "${text}")
file(COPY_FILE "${OUTPUT}.new" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.new")
