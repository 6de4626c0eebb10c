// libxml2 through one header. Foundation on Linux also imports libxml2 with ICU
// support switched off; declaring ICU here as well makes two incompatible module
// maps, so the version header is read first and ICU is undefined before the rest.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlerror.h>
