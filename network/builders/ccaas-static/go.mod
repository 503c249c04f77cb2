module medbridge/network/builders/ccaas-static

go 1.20
