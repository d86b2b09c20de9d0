#!/bin/sh
echo "coverage reports are not supported in Trellis's offline build" >&2
exit 1
