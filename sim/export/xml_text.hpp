// Text from a program (thread names, lock names, output) put into XML: the SVG timeline and the
// CLI's JUnit report. A name is whatever bytes a program chose, and the kernel may have cut it in
// the middle of a character; an XML parser refuses the whole file for one stray byte or control
// character, so every text goes through here.
#pragma once

#include <string>
#include <string_view>

namespace forklore {

// `text` as valid UTF-8: every byte that does not belong to a well-formed sequence (a stray
// continuation byte, a cut sequence, an overlong form, a surrogate) becomes U+FFFD.
std::string valid_utf8(std::string_view text);

// `text` as XML character data or an attribute value (in double quotes): valid UTF-8, & < > " '
// escaped, and the characters XML 1.0 forbids (control characters other than tab, newline and
// carriage return; U+FFFE, U+FFFF) replaced, the controls by a space and the others by U+FFFD.
std::string xml_escape(std::string_view text);

} // namespace forklore
