// threading
